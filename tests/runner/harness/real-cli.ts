/**
 * The real coding CLIs (the pinned npm packages) run by the real runner in the real bubblewrap
 * sandbox, against a fake edge and a local fake of their model API, for the conformance tests.
 * The fake API listens on the host's loopback, which the sandbox may not reach: only the runner's
 * model gateway calls it, with the operator's key the CLI's adapter was given.
 *
 * - `runRealCli` runs one task start to finish and returns what the tests assert on (the task,
 *   its completion and events, the CLIs advertised, the runner's metrics), then stops
 *   everything, the fake API included.
 * - `startRealCliRunner` keeps the runner up for several tasks (a follow-up resuming a session).
 * - `REAL_CLI_BIN` and `REAL_CLI_PATH` find the pinned CLIs, for tests that run one directly.
 * @example
 * const api = await startFakeAnthropic(script);
 * const run = await runRealCli({ cli: "claude", api, key: OPERATOR_KEY, repo: fixture, task: { prompt: "Write NOTES.md" } });
 * expect(run.completion.outcome).toBe("succeeded");
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Registry } from "prom-client";
import type { Completion, Lease, RunnerEvent } from "#api/index.js";
import type { CliAdapter } from "../../../runner/src/cli/cli-adapter.js";
import { createClaudeAdapter } from "../../../runner/src/cli/claude/claude-adapter.js";
import { createCodexAdapter } from "../../../runner/src/cli/codex/codex-adapter.js";
import { createGeminiAdapter } from "../../../runner/src/cli/gemini/gemini-adapter.js";
import { createOpencodeAdapter } from "../../../runner/src/cli/opencode/opencode-adapter.js";
import type { TaskRunnerOptions } from "../../../runner/src/task-runner.js";
import { createRunnerMetrics } from "../../../runner/src/telemetry/runner-metrics.js";
import { startFakeEdge, type FakeEdge, type FakeTask } from "./fake-edge.js";
import type { GitFixture } from "./git-fixture.js";
import { SYSTEM_PATH, startTestRunner } from "./test-runner.js";

/** Where npm put the pinned CLIs' executables. */
export const REAL_CLI_BIN = fileURLToPath(new URL("../../../node_modules/.bin", import.meta.url));
/** `PATH` with the pinned CLIs and the system's tools, and nothing else of npm's. */
export const REAL_CLI_PATH = `${REAL_CLI_BIN}:${SYSTEM_PATH}`;

export type RealCli = "claude" | "codex" | "gemini" | "opencode";
/** Which model API the CLI is pointed at; each CLI's own by default (Anthropic's for opencode). */
export type ModelApi = "anthropic" | "openai" | "gemini";

/** The operator's key and base URL variables, as each model API's CLIs read them. */
const API_ENV: Record<ModelApi, { key: string; baseUrl: string }> = {
  anthropic: { key: "ANTHROPIC_API_KEY", baseUrl: "ANTHROPIC_BASE_URL" },
  openai: { key: "OPENAI_API_KEY", baseUrl: "OPENAI_BASE_URL" },
  gemini: { key: "GEMINI_API_KEY", baseUrl: "GOOGLE_GEMINI_BASE_URL" },
};
const DEFAULT_API: Record<RealCli, ModelApi> = { claude: "anthropic", codex: "openai", gemini: "gemini", opencode: "anthropic" };

export interface RealCliOptions {
  cli: RealCli;
  /** The fake model API: its base URL, and `close`, called when the runner stops. */
  api: { url: string; close(): Promise<void> };
  /** The operator's key, given to the CLI's adapter (never to the sandbox). */
  key: string;
  /** Which API `api` fakes, when not the CLI's own (opencode with OpenAI's models). */
  apiKind?: ModelApi;
  /** More variables for the CLI's adapter (e.g. `CLAUDE_CODE_MAX_RETRIES`). */
  env?: Record<string, string>;
  /** What the sandbox may reach directly; nothing by default. */
  egress?: TaskRunnerOptions["egress"];
}

export interface RealCliRunner {
  readonly edge: FakeEdge;
  /** The CLIs the runner found and advertises. */
  readonly clis: string[];
  /** Queues a task for the CLI: on `main` of `repo`, 120 s to run, with what `task` sets. */
  enqueue(repo: GitFixture, task?: Partial<Lease["task"]>): FakeTask;
  /** The task's completion, once it has one. */
  complete(task: FakeTask, timeoutMs?: number): Promise<Completion>;
  /** The runner's Prometheus metrics, as text. */
  metrics(): Promise<string>;
  /** Stops the runner, the fake edge and the fake API, and removes the workspace. */
  close(): Promise<void>;
}

export interface RealCliRun {
  task: FakeTask;
  completion: Completion;
  events: RunnerEvent[];
  clis: string[];
  /** The runner's Prometheus metrics after the run, as text. */
  metrics: string;
}

function createAdapter(options: RealCliOptions): CliAdapter {
  const vars = API_ENV[options.apiKind ?? DEFAULT_API[options.cli]];
  const env = { [vars.key]: options.key, [vars.baseUrl]: options.api.url, ...options.env };
  const common = { pathEnv: REAL_CLI_PATH };
  // Their `--version` can be slow on a busy machine (Codex's and Gemini CLI's adapters allow more already).
  const slowProbe = { probeTimeoutMs: 20_000 };
  switch (options.cli) {
    case "claude":
      return createClaudeAdapter({ ...common, ...slowProbe, env: { DISABLE_TELEMETRY: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1", ...env } });
    case "codex":
      return createCodexAdapter({ ...common, env });
    case "gemini":
      return createGeminiAdapter({ ...common, env });
    case "opencode":
      return createOpencodeAdapter({ ...common, ...slowProbe, env });
  }
}

/** Starts the real runner with the one CLI, in the bubblewrap sandbox, against a new fake edge. */
export async function startRealCliRunner(options: RealCliOptions): Promise<RealCliRunner> {
  const edge = await startFakeEdge({ heartbeatIntervalMs: 500 });
  const workspaceRoot = mkdtempSync(path.join(os.tmpdir(), `codeforge-${options.cli}-`));
  const register = new Registry();
  const runner = await startTestRunner({
    edge,
    workspaceRoot,
    runnerId: `${options.cli}-runner`,
    adapters: [createAdapter(options)],
    pathEnv: REAL_CLI_PATH,
    sandbox: "bubblewrap",
    taskRunner: { egress: options.egress ?? { allow: [], allowedNetworks: [] }, metrics: createRunnerMetrics({ register, workspaceRoot }) },
  });
  return {
    edge,
    clis: runner.registry.names(),
    enqueue: (repo, task = {}) => edge.enqueue({ repo: { url: repo.url, ref: "main" }, cli: options.cli, timeout_seconds: 120, ...task }),
    complete: (task, timeoutMs = 100_000) => edge.waitFor(() => task.completion, timeoutMs),
    metrics: () => register.metrics(),
    async close() {
      await runner.loop.stop(2_000);
      await edge.close();
      await options.api.close();
      rmSync(workspaceRoot, { recursive: true, force: true });
    },
  };
}

/** Runs one task with the real CLI on `main` of `repo`; everything is stopped when it returns. */
export async function runRealCli(options: RealCliOptions & { repo: GitFixture; task?: Partial<Lease["task"]>; timeoutMs?: number }): Promise<RealCliRun> {
  const runner = await startRealCliRunner(options);
  try {
    const task = runner.enqueue(options.repo, options.task);
    const completion = await runner.complete(task, options.timeoutMs);
    return { task, completion, events: runner.edge.events(task.id), clis: runner.clis, metrics: await runner.metrics() };
  } finally {
    await runner.close();
  }
}
