/**
 * The real runner — signed edge client, CLI registry, task runner and lease loop, wired as
 * `runner/src/main.ts` wires them — started against a fake edge, for the integration tests in
 * this folder. A test passes only what it varies: the CLIs, `PATH`, concurrency, and any
 * task-runner option (stall timeout, metrics, commit identity, git policy). `SYSTEM_PATH` and
 * `STAND_IN_PATH` are the `PATH`s tests give it; `processesIn` finds what still runs in a task's
 * workspace.
 * @module
 */
import { readdirSync, readlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import type { CliAdapter } from "../../../runner/src/cli/cli-adapter.js";
import { createDemoAdapter } from "../../../runner/src/cli/demo/demo-adapter.js";
import { createCliRegistry, type CliRegistry } from "../../../runner/src/cli/registry.js";
import { createEdgeClient } from "../../../runner/src/edge-link/edge-client.js";
import { createLeaseLoop, type LeaseLoop } from "../../../runner/src/edge-link/lease-loop.js";
import { createProcessRunner } from "../../../runner/src/sandbox/process-runner.js";
import { createTaskRunner, type TaskRunnerOptions } from "../../../runner/src/task-runner.js";
import { createNoSandbox } from "../../../runner/src/sandbox/sandbox.js";
import { createBubblewrapSandbox } from "../../../runner/src/sandbox/bubblewrap-sandbox.js";
import { findOnPath } from "../../../runner/src/sandbox/cli-installation.js";
import { sandboxLimits } from "../../../runner/src/sandbox/sandbox-limits.js";
import { RunnerConfig } from "../../../runner/src/config.js";
import type { FakeEdge } from "./fake-edge.js";

/** The smallest valid runner configuration: everything else at its default. */
const MINIMAL_CONFIG = {
  edge_url: "http://127.0.0.1:9",
  runner_secret: "a-runner-secret-for-tests",
  runner_id: "test-runner",
  workspace_root: "/tmp",
  labels: [],
};

/**
 * The test process's PATH without npm's `node_modules/.bin` directories, where the pinned real
 * Claude Code lives: a runner on it has only the CLIs a test gives it.
 */
export const SYSTEM_PATH = (process.env.PATH ?? "/usr/bin:/bin")
  .split(":")
  .filter((dir) => dir && !dir.split("/").includes("node_modules"))
  .join(":");

/** The stand-ins of the coding CLIs (`tests/runner/fixtures/bin`), which check their argv as the real ones do. */
export const STAND_IN_BIN = fileURLToPath(new URL("../fixtures/bin", import.meta.url));
/** `SYSTEM_PATH` with the stand-in CLIs first. */
export const STAND_IN_PATH = `${STAND_IN_BIN}:${SYSTEM_PATH}`;
/** The program the `script` CLI runs in tests (`fixtures/script/edit-file`): writes its stdin to SCRIPT_OUTPUT.md, echoes its arguments. */
export const EDIT_FILE_SCRIPT = fileURLToPath(new URL("../fixtures/script/edit-file", import.meta.url));

export interface TestRunnerOptions {
  edge: FakeEdge;
  workspaceRoot: string;
  runnerId: string;
  /** The CLIs it may run; the demo CLI by default. Only those that answer `--version` are advertised. */
  adapters?: readonly CliAdapter[];
  /** `PATH` for git and the CLIs; the test process's by default. */
  pathEnv?: string;
  concurrency?: number;
  /** What the CLIs run in: `none` (the default here) or a real bubblewrap sandbox with default limits. */
  sandbox?: "none" | "bubblewrap";
  /** Task-runner options beyond the wiring; `file:` remotes are allowed unless `gitPolicy` says otherwise. */
  taskRunner?: Partial<Omit<TaskRunnerOptions, "client" | "registry" | "workspaceRoot" | "pathEnv">>;
}

export interface TestRunner {
  loop: LeaseLoop;
  /** The CLIs the runner found and advertises. */
  registry: CliRegistry;
}

/**
 * @example
 * const { loop } = await startTestRunner({ edge, workspaceRoot, runnerId: "e2e-runner" });
 * // … edge.enqueue(…), await edge.waitFor(…) …
 * await loop.stop(2_000);
 */
export async function startTestRunner(options: TestRunnerOptions): Promise<TestRunner> {
  const client = createEdgeClient({ edgeUrl: options.edge.url, secret: options.edge.secret });
  const registry = await createCliRegistry(options.adapters ?? [createDemoAdapter()]);
  const logger = pino({ level: "silent" });
  const processes = createProcessRunner({ killGraceMs: 500 });
  const sandbox =
    options.sandbox === "bubblewrap"
      ? await createBubblewrapSandbox({
          processes,
          bwrapPath: (await findOnPath("bwrap", SYSTEM_PATH))!,
          limits: sandboxLimits(RunnerConfig.parse(MINIMAL_CONFIG)),
          cgroups: true,
        })
      : createNoSandbox({ processes });
  const taskRunner = createTaskRunner({
    sandbox,
    gitPolicy: { allowFile: true, allowSsh: false },
    logger,
    ...options.taskRunner,
    client,
    registry,
    workspaceRoot: options.workspaceRoot,
    pathEnv: options.pathEnv ?? SYSTEM_PATH,
  });
  const loop = createLeaseLoop({
    client,
    run: taskRunner.run,
    concurrency: options.concurrency ?? 2,
    leaseRequest: { runner_id: options.runnerId, pool: "default", clis: registry.names(), labels: [], wait_ms: 2_000 },
    logger,
  });
  void loop.start();
  return { loop, registry };
}

/** Processes working in a task's workspace (the runner names workspaces after their task). */
export function processesIn(taskId: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`).includes(taskId)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}
