/**
 * Starts a CLI as its own process group with a clean environment, and stops all of it.
 *
 * The CLI is an untrusted program acting on untrusted input, so: an argv array and never a
 * shell; `extendEnv: false`, so the runner's own secrets (its HMAC key above all) never reach
 * it and only the variables given here do; stdin carries the given input (the prompt) and is
 * then closed, or is closed from the start; output left as streams for the
 * caller to consume at its own pace (`buffer: false`). `detached: true` makes the CLI lead a
 * new process group, so stopping it signals the whole group — SIGTERM, then SIGKILL after the
 * grace period — and reaches the tools and shells it started, not just the direct child. When
 * the CLI exits on its own, whatever it left running in its group is killed too, so no orphan
 * outlives its task. (A process that moves itself to another session escapes groups; only a
 * cgroup or container boundary catches that.)
 * @module
 */
import { execa } from "execa";
import type { Readable, Writable } from "node:stream";

export interface ProcessSpec {
  command: string;
  args: readonly string[];
  cwd: string;
  /** The complete environment of the process; nothing else is inherited. */
  env: Record<string, string>;
  /** Written to stdin, which is then closed; without it stdin is closed at once. */
  input?: string;
  /**
   * For a launcher that waits to be let go (bubblewrap's `--info-fd 3 --block-fd 4`): the
   * process gets a pipe it writes as fd 3 and ones it reads as fds 4 and 5, and `hold` is called
   * with them once it has started. The launcher runs nothing of the program until `hold` writes
   * to `release`; fd 5 is passed through to the program, for a word of its own (`gate`). If
   * `hold` rejects, the process group is killed.
   */
  hold?: (launch: HeldLaunch) => Promise<void>;
  /**
   * The process group that `stop()` asks to end with SIGTERM, when it is not the process's own
   * (a sandbox whose programs run in a session of their own). SIGKILL still goes to both.
   */
  stopGroup?: () => number | undefined;
}

/** What `ProcessSpec.hold` gets: the launcher's pid and its two extra pipes. */
export interface HeldLaunch {
  pid: number;
  /** fd 3 of the launcher: what it reports (bubblewrap: JSON with the sandbox's pid). */
  info: Readable;
  /** fd 4 of the launcher: a byte written here lets the program run. */
  release: Writable;
  /** fd 5, inherited by the program: for it to wait on (see `runner/bin/sandbox-init.mjs`). */
  gate: Writable;
}

export interface ProcessExit {
  /** Null when killed by a signal or never started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Why the process could not be started (ENOENT, E2BIG, …), when it could not. */
  spawnError: string | null;
}

export interface RunningProcess {
  /** Undefined when the process could not be started. */
  readonly pid: number | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Resolves when the direct child has exited (its group has been killed by then). */
  readonly exited: Promise<ProcessExit>;
  /** SIGTERM to the group, SIGKILL after the grace period. Idempotent. */
  stop(): void;
}

export interface ProcessRunner {
  start(spec: ProcessSpec): RunningProcess;
  /** SIGKILLs every group still alive, synchronously: for the runner's own exit. */
  killAll(): void;
}

/**
 * @example
 * const processes = createProcessRunner({ killGraceMs: 5_000 });
 * const cli = processes.start({ command: process.execPath, args: [script, "-p"], input: prompt, cwd, env });
 * cancelSignal.addEventListener("abort", () => cli.stop());
 * const { exitCode } = await cli.exited;
 */
export function createProcessRunner(options: { killGraceMs: number }): ProcessRunner {
  const live = new Set<number>();

  function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
    try {
      process.kill(-pid, signal);
      return true;
    } catch {
      return false; // ESRCH: the group is already gone
    }
  }

  return {
    start(spec) {
      const child = execa(spec.command, [...spec.args], {
        cwd: spec.cwd,
        env: spec.env,
        extendEnv: false,
        detached: true,
        ...(spec.input === undefined ? {} : { input: spec.input }),
        // fds 3 to 5 only for a held launch; execa takes either `stdio` or the three names.
        ...(spec.hold
          ? { stdio: [spec.input === undefined ? "ignore" : "pipe", "pipe", "pipe", "pipe", "pipe", "pipe"] as const }
          : { stdin: spec.input === undefined ? ("ignore" as const) : ("pipe" as const), stdout: "pipe" as const, stderr: "pipe" as const }),
        buffer: false,
        reject: false,
        // Our own group kill replaces execa's direct-child-only cleanup.
        cleanup: false,
      });
      // Settled through the 'exit'/'error' events below; awaiting it would also wait for the pipes.
      void child.catch(() => undefined);
      const pid = child.pid;
      if (pid !== undefined) live.add(pid);

      let killTimer: NodeJS.Timeout | undefined;
      let stopping = false;
      const exited = new Promise<ProcessExit>((resolve) => {
        child.once("error", (err: NodeJS.ErrnoException) => {
          if (pid === undefined) resolve({ exitCode: null, signal: null, spawnError: err.code ?? err.message });
        });
        child.once("exit", (exitCode, signal) => {
          clearTimeout(killTimer);
          if (pid !== undefined) {
            // Leftovers in the group (background jobs, tool servers) die with the CLI.
            signalGroup(pid, "SIGKILL");
            live.delete(pid);
          }
          resolve({ exitCode, signal, spawnError: null });
        });
      });

      if (spec.hold && pid !== undefined) {
        const launch: HeldLaunch = {
          pid,
          info: child.stdio[3] as Readable,
          release: child.stdio[4] as Writable,
          gate: (child.stdio as unknown as Writable[])[5]!,
        };
        // A launcher that is never let go would hang the attempt: no release, no program.
        spec.hold(launch).catch(() => signalGroup(pid, "SIGKILL"));
      }
      const groups = (): number[] => {
        const inner = spec.stopGroup?.();
        return inner === undefined || inner === pid ? [pid!] : [inner, pid!];
      };

      return {
        pid,
        stdout: child.stdout!,
        stderr: child.stderr!,
        exited,
        stop() {
          if (stopping || pid === undefined || !live.has(pid)) return;
          stopping = true;
          signalGroup(groups()[0]!, "SIGTERM");
          killTimer = setTimeout(() => {
            for (const group of groups()) signalGroup(group, "SIGKILL");
          }, options.killGraceMs);
          killTimer.unref();
        },
      };
    },
    killAll() {
      for (const pid of live) signalGroup(pid, "SIGKILL");
      live.clear();
    },
  };
}
