/**
 * One vitest set-up for the runner's integration tests: a git fixture (a bare `main`/`feature`
 * remote) for the file, and for each test a fresh fake edge, a fresh workspace root and, when
 * asked, the real runner started against them; all of it stopped and removed after the test.
 *
 * Call `useRunner()` at the top of a test file. Its `runner` option starts the runner before
 * each test; without it a test starts one with `start()` (again to restart it with other
 * options). `enqueue` queues a task on the fixture's `main`, `done(task)` waits for a task's completion; `logs`, `texts` and `tools` read what
 * the task streamed.
 * @example
 * const h = useRunner({ runner: { concurrency: 1 } });
 * it("…", async () => {
 *   const task = h.enqueue({ prompt: "Add a note" });
 *   expect((await h.done(task)).outcome).toBe("succeeded");
 * });
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import type { Completion, Lease } from "#api/index.js";
import type { LeaseLoop } from "../../../runner/src/edge-link/lease-loop.js";
import { agentTexts, logMessages, toolUses } from "./events.js";
import { startFakeEdge, type FakeEdge, type FakeTask } from "./fake-edge.js";
import { createGitFixture, type GitFixture } from "./git-fixture.js";
import { startTestRunner, type TestRunner, type TestRunnerOptions } from "./test-runner.js";

/** What a test may vary of the runner: everything but the edge and workspace the harness owns. */
export type RunnerSetup = Omit<TestRunnerOptions, "edge" | "workspaceRoot" | "runnerId"> & { runnerId?: string };

export interface UseRunnerOptions {
  /** Started before each test when given (a function is called then, so it may read `workspaceRoot`). */
  runner?: RunnerSetup | (() => RunnerSetup);
  /** The fixture repository's files on `main`; `createGitFixture`'s by default. */
  files?: Record<string, string>;
  /** The fake edge's heartbeat interval; 150 ms by default, so phases show quickly. */
  heartbeatIntervalMs?: number;
  /** How long `done` waits for a completion; 20 s by default. */
  doneTimeoutMs?: number;
}

export interface RunnerHarness {
  /** The file's git fixture (created once, before all tests). */
  readonly fixture: GitFixture;
  /** This test's fake edge. */
  readonly edge: FakeEdge;
  /** This test's workspace root (empty at the start). */
  readonly workspaceRoot: string;
  /** The running runner's lease loop; throws when none was started. */
  readonly loop: LeaseLoop;
  /** Queues a task on this test's edge: on `main` of the fixture unless `task.repo` says otherwise. */
  enqueue(task?: Partial<Lease["task"]>): FakeTask;
  /** Starts the runner against this test's edge and workspace, stopping one already running. */
  start(setup?: RunnerSetup): Promise<TestRunner>;
  /** The task's completion, once it has one. */
  done(task: FakeTask): Promise<Completion>;
  /** The runner's log lines about the task. */
  logs(task: FakeTask): string[];
  /** The agent's texts in the task. */
  texts(task: FakeTask): string[];
  /** The tools the agent used in the task, in order. */
  tools(task: FakeTask): (string | undefined)[];
}

export function useRunner(options: UseRunnerOptions = {}): RunnerHarness {
  let fixture: GitFixture | undefined;
  let edge: FakeEdge | undefined;
  let workspaceRoot: string | undefined;
  let loop: LeaseLoop | undefined;
  const must = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`runner harness: no ${what} (used outside a test?)`);
    return value;
  };

  const harness: RunnerHarness = {
    get fixture() {
      return must(fixture, "git fixture");
    },
    get edge() {
      return must(edge, "fake edge");
    },
    get workspaceRoot() {
      return must(workspaceRoot, "workspace root");
    },
    get loop() {
      return must(loop, "runner started");
    },
    async start(setup = {}) {
      await loop?.stop(2_000);
      const runner = await startTestRunner({ runnerId: "test-runner", ...setup, edge: harness.edge, workspaceRoot: harness.workspaceRoot });
      loop = runner.loop;
      return runner;
    },
    enqueue: (task = {}) => harness.edge.enqueue({ repo: { url: harness.fixture.url, ref: "main" }, ...task }),
    done: (task) => harness.edge.waitFor(() => task.completion, options.doneTimeoutMs ?? 20_000),
    logs: (task) => logMessages(harness.edge.events(task.id)),
    texts: (task) => agentTexts(harness.edge.events(task.id)),
    tools: (task) => toolUses(harness.edge.events(task.id)),
  };

  beforeAll(() => {
    fixture = createGitFixture(options.files);
  });
  afterAll(() => fixture?.remove());
  beforeEach(async () => {
    edge = await startFakeEdge({ heartbeatIntervalMs: options.heartbeatIntervalMs ?? 150 });
    workspaceRoot = mkdtempSync(path.join(os.tmpdir(), "codeforge-runner-test-"));
    if (options.runner) await harness.start(typeof options.runner === "function" ? options.runner() : options.runner);
  });
  afterEach(async () => {
    await loop?.stop(2_000);
    loop = undefined;
    await edge?.close();
    if (workspaceRoot) rmSync(workspaceRoot, { recursive: true, force: true });
  });
  return harness;
}
