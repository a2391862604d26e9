/**
 * What the sandbox costs an attempt: the same attempt with `sandbox: none` and with bubblewrap,
 * side by side in one run.
 *
 * Each attempt is what the task runner does around the CLI: create the workspace, open the
 * attempt's sandbox (cgroup, disk watcher, and with egress the proxy), launch the demo CLI in it,
 * clone a small local repository meanwhile (the sandbox gets ready during the clone), start the
 * CLI, read its output until it exits, close the sandbox, remove the workspace. Two figures per mode:
 * from the start of the attempt to the CLI's first output byte (the CLI is running), and the
 * whole attempt. Modes: none; bubblewrap with limits and no egress (demo and script CLIs: the
 * sandbox has no network at all); bubblewrap with limits and egress (every model CLI: the bridge
 * `sandbox-init.mjs` starts first, on its own Node). Modes run in interleaved rounds, so a busy
 * moment on the machine falls on all of them alike.
 *
 * BENCH_SANDBOX_ATTEMPTS sets attempts per mode (default 30).
 * @module
 */
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDemoAdapter } from "../runner/src/cli/demo/demo-adapter.js";
import { createProcessRunner } from "../runner/src/sandbox/process-runner.js";
import { createBubblewrapSandbox } from "../runner/src/sandbox/bubblewrap-sandbox.js";
import { findOnPath } from "../runner/src/sandbox/cli-installation.js";
import { createNoSandbox, type Sandbox, type SandboxLimits } from "../runner/src/sandbox/sandbox.js";
import { createWorkspace } from "../runner/src/workspace/workspace.js";
import { ms, printTable, summarize } from "./stats.js";

const ATTEMPTS = Number(process.env.BENCH_SANDBOX_ATTEMPTS ?? 30);
const LIMITS: SandboxLimits = { memoryBytes: 4_096 * 1_048_576, maxProcesses: 1_024, cpus: null, diskBytes: 10_240 * 1_048_576 };

interface Mode {
  name: string;
  sandbox: Sandbox;
  egress: readonly string[];
}

const execFileAsync = promisify(execFile);

async function main(): Promise<void> {
  const pathEnv = process.env.PATH ?? "/usr/bin:/bin";
  const bwrapPath = await findOnPath("bwrap", pathEnv);
  if (!bwrapPath) throw new Error("bubblewrap (bwrap) is not installed: nothing to compare");
  const processes = createProcessRunner({ killGraceMs: 1_000 });
  const bubblewrap = await createBubblewrapSandbox({ processes, bwrapPath, limits: LIMITS, cgroups: true });
  const modes: Mode[] = [
    { name: "sandbox: none", sandbox: createNoSandbox({ processes }), egress: [] },
    { name: "bubblewrap, no egress", sandbox: bubblewrap, egress: [] },
    { name: "bubblewrap + egress bridge", sandbox: bubblewrap, egress: ["api.anthropic.com"] },
  ];
  const demo = createDemoAdapter();
  const readOnly = await demo.installation();
  const root = await mkdtemp(join(tmpdir(), "codeforge-bench-sandbox-"));
  const origin = join(root, "origin.git");
  execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", origin]);
  const seed = join(root, "seed");
  execFileSync("git", ["clone", "--quiet", origin, seed], { stdio: "ignore" });
  execFileSync("git", ["-C", seed, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "--quiet", "--allow-empty", "-m", "first"]);
  execFileSync("git", ["-C", seed, "push", "--quiet", "origin", "HEAD:main"], { stdio: "ignore" });
  const running = modes.map(() => [] as number[]);
  const total = modes.map(() => [] as number[]);
  try {
    for (let round = 0; round < ATTEMPTS; round++) {
      for (const [i, mode] of modes.entries()) {
        const started = performance.now();
        const workspace = await createWorkspace({ root, taskId: `tsk_bench${round}`, attempt: i + 1 });
        await mkdir(workspace.repoDir);
        const attempt = await mode.sandbox.open({
          workspace,
          readOnly,
          egress: { pool: mode.egress, task: null, allowedNetworks: [] },
          onEgressDenied: () => undefined,
          onLimit: () => undefined,
        });
        const { command, args, stdin } = demo.command({ prompt: "Add a note", model: null, scratchDir: attempt.paths.scratch, autonomy: "full" });
        const launch = attempt.launch({
          command,
          args,
          input: stdin,
          env: { PATH: pathEnv, HOME: attempt.paths.home, TMPDIR: attempt.paths.tmp, ...attempt.env },
        });
        await execFileAsync("git", ["clone", "--quiet", "--depth", "1", `file://${origin}`, workspace.repoDir]);
        const child = launch.go();
        let firstByte = 0;
        child.stdout.once("data", () => (firstByte = performance.now()));
        child.stdout.resume();
        child.stderr.resume();
        const exit = await child.exited;
        if (exit.exitCode !== 0) throw new Error(`${mode.name}: the demo CLI ended with ${exit.exitCode ?? exit.signal}`);
        await attempt.close();
        await workspace.remove();
        running[i]!.push(firstByte - started);
        total[i]!.push(performance.now() - started);
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const base = { running: summarize(running[0]!), total: summarize(total[0]!) };
  console.log(`\nSandbox cost per attempt (local clone + demo CLI, ${ATTEMPTS} attempts per mode, interleaved)`);
  printTable([
    ["mode", "to CLI running p50", "p99", "added p50", "whole attempt p50", "p99", "added p50"],
    ...modes.map((mode, i) => {
      const r = summarize(running[i]!);
      const t = summarize(total[i]!);
      return [mode.name, ms(r.p50), ms(r.p99), ms(r.p50 - base.running.p50), ms(t.p50), ms(t.p99), ms(t.p50 - base.total.p50)];
    }),
  ]);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
