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
import type { Readable } from "node:stream";

export interface ProcessSpec {
  command: string;
  args: readonly string[];
  cwd: string;
  /** The complete environment of the process; nothing else is inherited. */
  env: Record<string, string>;
  /** Written to stdin, which is then closed; without it stdin is closed at once. */
  input?: string;
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
        ...(spec.input === undefined ? { stdin: "ignore" as const } : { input: spec.input }),
        stdout: "pipe",
        stderr: "pipe",
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

      return {
        pid,
        stdout: child.stdout!,
        stderr: child.stderr!,
        exited,
        stop() {
          if (stopping || pid === undefined || !live.has(pid)) return;
          stopping = true;
          signalGroup(pid, "SIGTERM");
          killTimer = setTimeout(() => signalGroup(pid, "SIGKILL"), options.killGraceMs);
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
