/**
 * The `bubblewrap` sandbox: each attempt's CLI in namespaces of its own, under limits, with the
 * network only through the runner's egress proxy.
 *
 * Why bubblewrap driven directly: it is the unprivileged namespace tool the desktop sandboxes
 * (Flatpak) are built on, a single small C program from the distribution, and it does exactly
 * the namespaces and mounts and no more; the other layers — limits, egress, what is mounted —
 * are the runner's own, small and tested here. (A library over it would bring its own proxy,
 * policy format and file-system rules, each to be reconciled with the runner's.)
 *
 * One attempt:
 * 1. `open`: writes the sandbox's `passwd`/`group`, starts the egress proxy on a Unix socket in
 *    the runner's corner of the workspace (only when the policy allows some host: otherwise the
 *    sandbox has no network at all), creates the attempt's cgroup, starts the disk watcher.
 * 2. `launch`: runs `bwrap … -- <cli>` held at the door (`--info-fd 3 --block-fd 4`): bubblewrap
 *    reports the sandbox's first process, the runner puts it in the cgroup, so no process of the
 *    attempt ever runs outside its limits. The task runner launches while it is still cloning;
 *    `go()` then lets the CLI start. With egress, the program is the bridge
 *    (`runner/bin/sandbox-init.mjs`), which listens on the sandbox's own loopback, forwards to
 *    the proxy socket and starts the CLI with `HTTPS_PROXY` and friends pointing at it: it is
 *    let in at once, boots during the clone, and waits for `go()` on fd 5; without egress the
 *    CLI itself is the program, and `go()` lets it through the door.
 *    A phase before the CLI (the task's setup, `openPhase`) launches its processes the same
 *    way, in the same cgroup and over the same directories, each through a proxy of its own
 *    with the phase's policy (`phase<n>.sock`), closed when the phase ends, and with the
 *    directory lent to the phase alone (the dependency cache at `/cache`).
 * 3. Stop: SIGTERM goes to the sandbox's session (the CLI and everything it started), SIGKILL
 *    after the grace period to bubblewrap, whose death takes the PID namespace with it.
 * 4. `limitHit` reads the cgroup's OOM-kill and fork-refusal counters and the disk watcher;
 *    `close` stops the proxy and removes the cgroup (killing anything left).
 *
 * bubblewrap exits with the program's exit code, or 128 + the signal number when a signal
 * killed it; `exited` turns the latter back into a signal, so a task reads "killed by SIGKILL"
 * whether or not it ran in a sandbox.
 * @module
 */
import { constants as osConstants, tmpdir } from "node:os";
import { lstat, mkdtemp, readlink, rm, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";
import type { ProcessExit, ProcessRunner, RunningProcess } from "./process-runner.js";
import {
  bubblewrapArgs,
  ETC_FILES,
  SANDBOX_INIT_PATH,
  SANDBOX_PATHS,
  SANDBOX_PROXY_SOCKET,
  sandboxIdentityFiles,
  SYSTEM_DIRS,
  type HostPath,
} from "./bubblewrap-args.js";
import { createAttemptCgroup, type AttemptCgroup } from "./cgroup-limits.js";
import { watchDiskQuota } from "./disk-quota.js";
import { startEgressProxy, type EgressDenial, type EgressProxy } from "./egress-proxy.js";
import type { AttemptSandbox, EgressPolicy, LimitName, Sandbox, SandboxLimits } from "./sandbox.js";

/** The bridge program run first inside a sandbox with egress. */
export const SANDBOX_INIT_SCRIPT = fileURLToPath(new URL("../../bin/sandbox-init.mjs", import.meta.url));

/** The port the bridge listens on, on the sandbox's own loopback (nothing else is there). */
export const SANDBOX_PROXY_PORT = 3128;

/** Longest a Unix socket path may be (`sun_path` is 108 bytes with its terminating NUL). */
const UNIX_SOCKET_PATH_MAX = 107;

/** How long bubblewrap may take to report the sandbox's pid before the attempt is given up. */
const LAUNCH_REPORT_TIMEOUT_MS = 10_000;

export interface BubblewrapSandboxOptions {
  processes: ProcessRunner;
  /** The bubblewrap executable (absolute path). */
  bwrapPath: string;
  limits: SandboxLimits;
  /** Enforce memory, process and CPU limits through cgroups (false: the container's own limits apply). */
  cgroups: boolean;
  /** Node, for the bridge (default: the runner's own). */
  nodePath?: string;
  /** The host's system directories and `/etc` entries; detected when not given. */
  host?: HostLayout;
  /** Disk watcher period. */
  diskCheckIntervalMs?: number;
}

export interface HostLayout {
  system: HostPath[];
  etc: string[];
}

/** Which of the system directories and `/etc` entries the host has, and which are links. */
export async function detectHostLayout(): Promise<HostLayout> {
  const system: HostPath[] = [];
  for (const dir of SYSTEM_DIRS) {
    const stat = await lstat(dir).catch(() => null);
    if (!stat) continue;
    system.push({ path: dir, link: stat.isSymbolicLink() ? await readlink(dir) : null });
  }
  const etc: string[] = [];
  for (const name of ETC_FILES) {
    if (await lstat(path.join("/etc", name)).catch(() => null)) etc.push(name);
  }
  return { system, etc };
}

/**
 * @example
 * const sandbox = await createBubblewrapSandbox({ processes, bwrapPath: "/usr/bin/bwrap", limits, cgroups: true });
 * const attempt = await sandbox.open({ workspace, readOnly, egress, onEgressDenied, onLimit });
 */
export async function createBubblewrapSandbox(options: BubblewrapSandboxOptions): Promise<Sandbox> {
  const host = options.host ?? (await detectHostLayout());
  const nodePath = options.nodePath ?? process.execPath;
  const { limits } = options;
  return {
    kind: "bubblewrap",
    limits,
    async open({ workspace, readOnly, egress, onEgressDenied, onLimit }) {
      const identity = sandboxIdentityFiles();
      const passwdFile = path.join(workspace.runnerDir, "passwd");
      const groupFile = path.join(workspace.runnerDir, "group");
      await Promise.all([writeFile(passwdFile, identity.passwd, { mode: 0o644 }), writeFile(groupFile, identity.group, { mode: 0o644 })]);

      let proxy: EgressProxy | null = null;
      /** Proxies of phases before the CLI (setup), each with its own policy. */
      const phaseProxies = new Set<EgressProxy>();
      let cgroup: AttemptCgroup | null = null;
      let diskHit = false;
      let disk: { stop(): void } | null = null;
      /** A private directory for sockets whose path in the workspace would be too long. */
      let socketDir: string | null = null;
      const close = async () => {
        disk?.stop();
        await proxy?.close();
        await Promise.all([...phaseProxies].map((p) => p.close()));
        if (socketDir) await rm(socketDir, { recursive: true, force: true });
        await cgroup?.remove();
      };
      /**
       * Where the socket `name` goes: the workspace's runner directory, or — when that path passes
       * the kernel's limit for socket paths (a deep workspace root) — a private (0700) directory
       * of this attempt's under the system's temporary directory. The sandbox sees it at a fixed
       * path either way.
       */
      const socketPathFor = async (name: string): Promise<string> => {
        const inWorkspace = path.join(workspace.runnerDir, name);
        if (inWorkspace.length <= UNIX_SOCKET_PATH_MAX) return inWorkspace;
        socketDir ??= await mkdtemp(path.join(tmpdir(), "codeforge-sock-"));
        const short = path.join(socketDir, name);
        if (short.length > UNIX_SOCKET_PATH_MAX) {
          throw new Error(`no socket path for the egress proxy fits ${UNIX_SOCKET_PATH_MAX} bytes (${short}); set TMPDIR to a shorter directory`);
        }
        return short;
      };
      /** A proxy for `policy` on a socket named `name`, or null when the policy allows nothing. */
      const proxyFor = async (name: string, policy: EgressPolicy, onDenied: (denial: EgressDenial) => void): Promise<EgressProxy | null> => {
        const wantsEgress = policy.gateway !== undefined || (policy.pool.length > 0 && (policy.task == null || policy.task.length > 0));
        if (!wantsEgress) return null;
        const socketPath = await socketPathFor(name);
        const { pool, task, allowedNetworks, lookup, gateway, refuse } = policy;
        return startEgressProxy({ socketPath, pool, task: task ?? null, allowedNetworks, lookup, onDenied, gateway, refuse });
      };
      try {
        proxy = await proxyFor("egress.sock", egress, onEgressDenied);
        if (options.cgroups) cgroup = await createAttemptCgroup({ name: path.basename(workspace.dir), limits });
        if (limits.diskBytes !== null) {
          disk = watchDiskQuota({
            dirs: [workspace.repoDir, workspace.homeDir, workspace.tmpDir, workspace.scratchDir],
            maxBytes: limits.diskBytes,
            intervalMs: options.diskCheckIntervalMs,
            onExceeded: () => {
              diskHit = true;
              onLimit("disk");
            },
          });
        }
      } catch (err) {
        await close();
        throw err;
      }

      const proxyUrl = `http://127.0.0.1:${SANDBOX_PROXY_PORT}`;
      const envFor = (proxy: EgressProxy | null): Record<string, string> =>
        proxy
          ? {
              HTTPS_PROXY: proxyUrl,
              HTTP_PROXY: proxyUrl,
              ALL_PROXY: proxyUrl,
              https_proxy: proxyUrl,
              http_proxy: proxyUrl,
              all_proxy: proxyUrl,
              NODE_USE_ENV_PROXY: "1",
            }
          : {};
      const argsFor = (proxy: EgressProxy | null, dependencyCacheDir: string | null) =>
        bubblewrapArgs({
          ...host,
          passwdFile,
          groupFile,
          readOnly,
          repoDir: workspace.repoDir,
          homeDir: workspace.homeDir,
          tmpDir: workspace.tmpDir,
          scratchDir: workspace.scratchDir,
          dependencyCacheDir,
          egress: proxy ? { socketPath: proxy.socketPath, initScript: SANDBOX_INIT_SCRIPT } : null,
          held: true,
        });

      /** Launches `spec` held in a sandbox whose way out is `proxy` (none: no network). */
      const launchWith = (proxy: EgressProxy | null, spec: Parameters<AttemptSandbox["launch"]>[0], dependencyCacheDir: string | null = null) => {
        const args = argsFor(proxy, dependencyCacheDir);
        const program = proxy
          ? [
              nodePath,
              SANDBOX_INIT_PATH,
              "--proxy-socket",
              SANDBOX_PROXY_SOCKET,
              "--listen",
              String(SANDBOX_PROXY_PORT),
              "--wait-fd",
              "5",
              "--",
              spec.command,
              ...spec.args,
            ]
          : [spec.command, ...spec.args];
        let sandboxPid: number | undefined;
        let letGo!: () => void;
        let giveUp!: (reason: Error) => void;
        const word = new Promise<void>((resolve, reject) => {
          letGo = resolve;
          giveUp = reject;
        });
        // Handled where `hold` awaits it; a launch abandoned before that must not go unhandled.
        word.catch(() => undefined);
        const child = options.processes.start({
          command: options.bwrapPath,
          args: [...args, ...program],
          cwd: workspace.dir,
          env: spec.env,
          input: spec.input,
          stopGroup: () => sandboxPid,
          async hold(held) {
            sandboxPid = await readSandboxPid(held.info);
            await cgroup?.add(sandboxPid);
            if (proxy) {
              // The bridge boots now; it starts the CLI when it reads the word on fd 5.
              held.release.end("go");
              await word;
              held.gate.end("go");
            } else {
              held.gate.end();
              await word;
              held.release.end("go");
            }
          },
        });
        const running = withSignalExits(child);
        return {
          go() {
            letGo();
            return running;
          },
          async abandon() {
            giveUp(new Error("abandoned"));
            child.stop();
            await child.exited;
          },
        };
      };
      const launch = (spec: Parameters<AttemptSandbox["launch"]>[0]) => launchWith(proxy, spec);
      let phases = 0;
      const attempt: AttemptSandbox = {
        kind: "bubblewrap",
        paths: { repo: SANDBOX_PATHS.repo, home: SANDBOX_PATHS.home, tmp: SANDBOX_PATHS.tmp, scratch: SANDBOX_PATHS.scratch },
        env: envFor(proxy),
        launch,
        start: (spec) => launch(spec).go(),
        async openPhase({ egress: policy, onEgressDenied: onDenied, dependencyCacheDir }) {
          const phaseProxy = await proxyFor(`phase${++phases}.sock`, policy, onDenied);
          if (phaseProxy) phaseProxies.add(phaseProxy);
          const cacheDir = dependencyCacheDir ?? null;
          return {
            env: envFor(phaseProxy),
            dependencyCacheDir: cacheDir && SANDBOX_PATHS.dependencyCache,
            start: (spec) => launchWith(phaseProxy, spec, cacheDir).go(),
            async close() {
              if (!phaseProxy) return;
              phaseProxies.delete(phaseProxy);
              await phaseProxy.close();
            },
          };
        },
        async limitHit(): Promise<LimitName | null> {
          if (diskHit) return "disk";
          return (await cgroup?.limitHit()) ?? null;
        },
        close,
      };
      return attempt;
    },
  };
}

/** Reads bubblewrap's `--info-fd` report until it holds the sandbox's pid (host numbering). */
function readSandboxPid(info: NodeJS.ReadableStream): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => done(new Error("bubblewrap did not report the sandbox's pid")), LAUNCH_REPORT_TIMEOUT_MS);
    const done = (err: Error | null, pid?: number) => {
      clearTimeout(timer);
      info.removeListener("data", onData);
      info.removeListener("end", onEnd);
      if (err) reject(err);
      else resolve(pid!);
    };
    const onData = (chunk: Buffer | string) => {
      text += chunk.toString();
      const match = /"child-pid"\s*:\s*(\d+)/.exec(text);
      if (match) done(null, Number(match[1]));
    };
    const onEnd = () => done(new Error("bubblewrap exited before starting the sandbox"));
    info.on("data", onData);
    info.on("end", onEnd);
  });
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(Object.entries(osConstants.signals).map(([name, number]) => [number, name as NodeJS.Signals]));

/** bubblewrap's `128 + n` exit for a program killed by signal n, read back as that signal. */
export function signalExit(exit: ProcessExit): ProcessExit {
  if (exit.exitCode === null || exit.exitCode <= 128) return exit;
  const signal = SIGNAL_NAMES.get(exit.exitCode - 128);
  return signal ? { exitCode: null, signal, spawnError: null } : exit;
}

function withSignalExits(child: RunningProcess): RunningProcess {
  const exited = child.exited.then(signalExit);
  return {
    get pid() {
      return child.pid;
    },
    stdout: child.stdout,
    stderr: child.stderr,
    exited,
    stop: () => child.stop(),
  };
}
