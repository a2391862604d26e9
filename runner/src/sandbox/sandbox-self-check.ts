/**
 * `npm run runner -- --check`: what the sandbox enforces on this machine, each line passed or
 * failed.
 *
 * An operator moving the runner to a new host, container runtime or cluster wants to know that
 * the sandbox holds there, not that it held in CI. The check builds sandboxes exactly as the
 * runner does and runs the hostile program (`runner/bin/sandbox-check.mjs`) in them: read a
 * neighbouring workspace, the runner's configuration and secret, the host's processes; connect
 * to a listener on the host's loopback; query a DNS server directly; write outside; leave a
 * process running in a session of its own; fork past the process limit; allocate past the
 * memory limit; fill past the disk limit; reach an allowed host through the egress proxy and be
 * refused another. The limits used are small ones of its own, so that each can be seen to bite in
 * a second or two; what it checks is that they are enforced at all.
 * @module
 */
import { createHash, randomUUID } from "node:crypto";
import dgram from "node:dgram";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Readable } from "node:stream";
import { parseCidr } from "#api/index.js";
import { signingKey, type RunnerConfig } from "../config.js";
import type { ProcessRunner } from "./process-runner.js";
import { createWorkspace } from "../workspace/workspace.js";
import { nodeRuntimePaths } from "./cli-installation.js";
import type { LimitName, SandboxLimits } from "./sandbox.js";
import { probeSandbox } from "./sandbox-probe.js";

/** The hostile program. */
export const SANDBOX_CHECK_PROGRAM = fileURLToPath(new URL("../../bin/sandbox-check.mjs", import.meta.url));

/** Small limits, so that each is reached within a second or two. */
const CHECK_LIMITS: SandboxLimits = { memoryBytes: 128 * 1_048_576, maxProcesses: 32, cpus: null, diskBytes: 16 * 1_048_576 };

export interface SelfCheckOptions {
  config: RunnerConfig;
  processes: ProcessRunner;
  pathEnv: string;
  /** Where each line goes (stdout in `main.ts`). */
  print: (line: string) => void;
}

/**
 * @example
 * const ok = await runSandboxSelfCheck({ config, processes, pathEnv, print: console.log });
 * process.exit(ok ? 0 : 1);
 */
export async function runSandboxSelfCheck(options: SelfCheckOptions): Promise<boolean> {
  const { config, print } = options;
  let failures = 0;
  const line = (ok: boolean, what: string, detail: string) => {
    if (!ok) failures++;
    print(`${ok ? "✓" : "✗"} ${what} — ${detail}`);
  };

  if (config.sandbox === "none") {
    line(false, "sandbox", "sandbox: none — CLIs run as plain child processes with the runner's view of the machine");
    return false;
  }
  const probe = await probeSandbox({
    processes: options.processes,
    pathEnv: options.pathEnv,
    limits: CHECK_LIMITS,
    cgroups: config.sandbox_cgroup_limits,
    diskCheckIntervalMs: 200,
  });
  if (!probe.ok) {
    line(false, "sandbox", `${probe.problem}. Fix: ${probe.fix}`);
    return false;
  }
  line(true, "sandbox", "bubblewrap builds a sandbox with its own user, mount, PID and network namespaces");
  if (!config.sandbox_cgroup_limits) print("- limits — sandbox_cgroup_limits: false: memory, process and CPU limits are left to the container or pod");

  const root = await mkdtemp(path.join(os.tmpdir(), "codeforge-check-"));
  const servers = await startHostServices();
  try {
    // The sandbox the probe built and proved, as the runner would use it.
    const { sandbox } = probe;
    const neighbour = path.join(root, "tsk_neighbour-a1-000000");
    await mkdir(neighbour);
    await writeFile(path.join(neighbour, "secret.txt"), "another task's code\n");
    const configCopy = path.join(root, "runner.yaml");
    await writeFile(configCopy, "runner_secret: a-copy-of-the-runner-configuration\n", { mode: 0o600 });
    const escapeMarker = `codeforge-check-${randomUUID()}`;
    const outside = path.join(root, `written-from-inside-${randomUUID()}`);

    const run = async (targets: Record<string, unknown>) => {
      const workspace = await createWorkspace({ root, taskId: "tsk_check", attempt: 1 });
      await mkdir(workspace.repoDir);
      let limit: LimitName | null = null;
      const denied: string[] = [];
      const attempt = await sandbox.open({
        workspace,
        readOnly: [SANDBOX_CHECK_PROGRAM, ...nodeRuntimePaths()],
        egress: { pool: [`localhost:${servers.allowed.port}`], task: null, allowedNetworks: [parseLoopback()] },
        onEgressDenied: (denial) => denied.push(`${denial.host}:${denial.port}`),
        onLimit: (hit) => {
          limit = hit;
          child.stop();
        },
      });
      const child = attempt.start({
        command: process.execPath,
        args: [SANDBOX_CHECK_PROGRAM],
        input: JSON.stringify(targets),
        env: { PATH: options.pathEnv, HOME: attempt.paths.home, TMPDIR: attempt.paths.tmp, ...attempt.env },
      });
      const [output] = await Promise.all([collect(child.stdout), collect(child.stderr)]);
      const exit = await child.exited;
      limit ??= await attempt.limitHit();
      await attempt.close();
      await workspace.remove();
      return { output, exit, limit, denied };
    };

    const hostile = await run({
      read: [path.join(neighbour, "secret.txt"), configCopy, "/etc/shadow", fileURLToPath(import.meta.url)],
      write: [outside, path.join(neighbour, "planted.txt")],
      connect: [{ host: "127.0.0.1", port: servers.listener.port }],
      dns: `127.0.0.1:${servers.dns.port}`,
      secret_sha256: createHash("sha256").update(signingKey(config).secret).digest("hex"),
      runner_marker: process.argv[1] ?? "main.ts",
      escape_marker: escapeMarker,
      forks: (CHECK_LIMITS.maxProcesses ?? 0) + 16,
      proxy: { allowed: `localhost:${servers.allowed.port}`, denied: "example.com:443" },
    });
    for (const match of hostile.output.matchAll(/^(PASS|FAIL) ([a-z-]+): (.*)$/gm)) {
      if (match[2] === "fork" && !config.sandbox_cgroup_limits) continue;
      line(match[1] === "PASS", match[2]!, match[3]!);
    }
    line(
      servers.listener.connections() === 0,
      "loopback",
      `a listener on the host's 127.0.0.1 saw ${servers.listener.connections()} connections from the sandbox`,
    );
    line(servers.dns.queries() === 0, "dns", `a DNS server on the host's loopback got ${servers.dns.queries()} queries from the sandbox`);
    line(hostile.denied.includes("example.com:443"), "egress-denied", `refusals reported to the runner: ${hostile.denied.join(", ") || "none"}`);
    line(
      !existsSync(outside),
      "write-outside",
      existsSync(outside) ? `${outside} was created from inside` : "nothing was written outside the attempt's directories",
    );
    const left = processesTagged(escapeMarker);
    line(
      left.length === 0,
      "escape",
      left.length
        ? `a process left in a session of its own outlived the sandbox (pids ${left.join(", ")})`
        : "the process left running in a session of its own ended with the sandbox",
    );
    for (const pid of left) process.kill(pid, "SIGKILL");

    if (config.sandbox_cgroup_limits) {
      const memory = await run({ mode: "memory", mb: 512 });
      line(
        memory.limit === "memory",
        "memory-limit",
        memory.limit === "memory" ? "an attempt allocating 512 MiB under a 128 MiB limit was stopped" : `not stopped (${memory.output.trim() || "no output"})`,
      );
    }
    const disk = await run({ mode: "disk", mb: 64 });
    line(
      disk.limit === "disk",
      "disk-limit",
      disk.limit === "disk" ? "an attempt writing 64 MiB under a 16 MiB limit was stopped" : `not stopped (${disk.output.trim() || "no output"})`,
    );
  } finally {
    servers.close();
    await rm(root, { recursive: true, force: true });
  }
  print(failures === 0 ? "The sandbox holds on this machine." : `${failures} check(s) failed: the sandbox does not hold on this machine.`);
  return failures === 0;
}

function parseLoopback() {
  const parsed = parseCidr("127.0.0.1/32");
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.range;
}

async function collect(stream: Readable): Promise<string> {
  let text = "";
  for await (const chunk of stream) text += chunk.toString();
  return text;
}

/** Processes on this machine whose command line holds `marker` (a tag a test or check planted). */
export function processesTagged(marker: string): number[] {
  const found: number[] = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "latin1").includes(marker)) found.push(Number(pid));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** A TCP server on the host's loopback that counts who reached it (and answers `reply`, if given). */
export async function countingServer(reply?: string): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    if (reply) socket.end(reply);
    else socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => connections,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A UDP "DNS server" on the host's loopback that only counts the queries it gets. */
export async function countingDns(): Promise<{ port: number; queries: () => number; close: () => void }> {
  let queries = 0;
  const socket = dgram.createSocket("udp4");
  socket.on("message", () => queries++);
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return { port: socket.address().port, queries: () => queries, close: () => socket.close() };
}

/** A listener and a DNS server on the host's loopback that count what reaches them, and an allowed host. */
async function startHostServices() {
  const [listener, allowed, dns] = await Promise.all([countingServer(), countingServer("allowed\n"), countingDns()]);
  return {
    listener,
    allowed,
    dns,
    close() {
      void listener.close();
      void allowed.close();
      dns.close();
    },
  };
}
