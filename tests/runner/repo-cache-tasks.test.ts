// Integration: tasks on a runner that keeps a repository cache. A real fake edge, the real lease
// loop and task runner, the demo CLI, real git against the file:// fixture: the result, the log
// and the metrics say where each checkout came from; a follow-up is served from the mirror.
import path from "node:path";
import { Registry } from "prom-client";
import { beforeEach, describe, expect, it } from "vitest";
import { TaskResult, type IterationBase } from "#api/index.js";
import { createRepoCache } from "../../runner/src/git/repo-cache.js";
import { createRunnerMetrics } from "../../runner/src/telemetry/runner-metrics.js";
import { useRunner } from "./harness/use-runner.js";

const h = useRunner({ doneTimeoutMs: 20_000 });
let register: Registry;

beforeEach(async () => {
  register = new Registry();
  await h.start({
    runnerId: "cache-runner",
    concurrency: 1,
    taskRunner: {
      metrics: createRunnerMetrics({ register, workspaceRoot: h.workspaceRoot, measureDisk: async () => 0 }),
      repoCache: createRepoCache({ dir: path.join(h.workspaceRoot, ".repo-cache"), maxBytes: 1 << 30 }),
    },
  });
});

async function succeeded(task: ReturnType<typeof h.enqueue>) {
  const completion = await h.done(task);
  expect(completion.outcome, JSON.stringify(completion.error)).toBe("succeeded");
  expect(TaskResult.safeParse(completion.result).success).toBe(true);
  return completion.result!;
}

describe("a runner with a repository cache", () => {
  it("reports each clone's source and duration in the result, the log and the clone histogram", async () => {
    const first = h.enqueue({ prompt: "First" });
    expect((await succeeded(first)).phases?.clone).toMatchObject({ cache: "cold", duration_ms: expect.any(Number) });
    const second = h.enqueue({ prompt: "Second" });
    const result = await succeeded(second);
    expect(result.phases?.clone?.cache).toBe("hit");
    expect(result.base_commit_sha).toBe(h.fixture.mainSha);
    expect(h.logs(second)).toContain(`Checked out ${h.fixture.mainSha}, on branch codeforge/${second.id}`);
    expect(h.logs(second).join("\n")).toMatch(/Checkout took \d+\.\d s \(from the runner's repository cache\)/);
    const text = await register.metrics();
    expect(text).toMatch(/codeforge_runner_clone_seconds_count\{cache="cold"\} 1/);
    expect(text).toMatch(/codeforge_runner_clone_seconds_count\{cache="hit"\} 1/);
  });

  it("serves a follow-up's starting commit from the mirror", async () => {
    const first = await succeeded(h.enqueue({ prompt: "First request" }));
    const base: IterationBase = { kind: "patch", patch: first.patch, commit_sha: first.base_commit_sha! };
    const second = h.enqueue({ prompt: "Second request", iteration: 2, base });
    const result = await succeeded(second);
    expect(result.phases?.clone?.cache).toBe("hit");
    expect(result.patch).toContain("+- First request\n");
    expect(result.patch).toContain("+- Second request\n");
  });

  it("fails a task whose repository is gone with the clone error, cache or not", async () => {
    const task = h.enqueue({ prompt: "Nothing there", repo: { url: `${h.fixture.url}-missing`, ref: "main" } });
    const completion = await h.done(task);
    expect(completion.outcome).toBe("failed");
    expect(completion.error?.code).toBe("clone_failed");
    expect(completion.error?.message).toContain(`git could not check out ${h.fixture.url}-missing at main`);
  });
});
