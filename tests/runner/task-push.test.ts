// Integration: tasks that push, through the whole runner — a real HTTP fake edge, the signed
// client, the lease loop, the task runner, real git against a real bare repository, and real
// child processes as the CLI (the `script` CLI running tests/runner/fixtures/script/change-repo,
// and the demo CLI).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Registry } from "prom-client";
import { beforeEach, describe, expect, it } from "vitest";
import { TaskResult } from "#api/index.js";
import { createDemoAdapter } from "../../runner/src/cli/demo/demo-adapter.js";
import { createScriptAdapter } from "../../runner/src/cli/script/script-adapter.js";
import { createRunnerMetrics } from "../../runner/src/telemetry/runner-metrics.js";
import type { FakeTask } from "./harness/fake-edge.js";
import { git } from "./harness/git-fixture.js";
import { useRunner } from "./harness/use-runner.js";

const CHANGE_REPO = fileURLToPath(new URL("./fixtures/script/change-repo", import.meta.url));
const TOKEN = "ghs_TaskPushToken_00112233445566778899";

const h = useRunner();
let register: Registry;
beforeEach(() => startRunner(process.env.PATH ?? "/usr/bin:/bin"));

async function startRunner(pathEnv: string) {
  register = new Registry();
  await h.start({
    runnerId: "push-runner",
    adapters: [createDemoAdapter(), createScriptAdapter({ command: CHANGE_REPO })],
    pathEnv,
    taskRunner: {
      metrics: createRunnerMetrics({ register, workspaceRoot: h.workspaceRoot, measureDisk: async () => 0 }),
      commitIdentity: { name: "Runner Bot", email: "runner@example.test" },
    },
  });
}

const bare = () => fileURLToPath(h.fixture.url);
const remoteSha = (branch: string): string | null => {
  try {
    return git(bare(), "rev-parse", "--verify", "--quiet", `refs/heads/${branch}`);
  } catch {
    return null;
  }
};
const everything = (task: FakeTask) => JSON.stringify(h.edge.events(task.id)) + JSON.stringify(task.completion);

describe("tasks that push", () => {
  it("commit the CLI's change and push it to the branch the lease names; the result names branch and commit", async () => {
    const task = h.enqueue({ cli: "script", prompt: "Write the change\nsecond line", access_token: TOKEN, push: { branch: "codeforge/runner-test" } });
    const completion = await h.done(task);

    expect(completion.error).toBeNull();
    expect(completion.outcome).toBe("succeeded");
    expect(TaskResult.safeParse(completion.result).success).toBe(true);
    const pushed = completion.result!.push!;
    expect(pushed.branch).toBe("codeforge/runner-test");
    expect(remoteSha("codeforge/runner-test")).toBe(pushed.commit_sha);
    expect(git(bare(), "show", `${pushed.commit_sha}:CHANGE.md`)).toBe("Write the change\nsecond line");
    expect(git(bare(), "log", "-1", "--format=%s|%an|%P", pushed.commit_sha)).toBe(`Write the change|Runner Bot|${h.fixture.mainSha}`);
    expect(git(bare(), "log", "-1", "--format=%b", pushed.commit_sha)).toContain(`CodeForge-Task: ${task.id}`);
    // The reported patch is the pushed commit's diff.
    expect(completion.result!.patch).toContain("+Write the change");
    expect(h.logs(task)).toContain(`Committing the changes and pushing them to branch codeforge/runner-test`);
    expect(h.logs(task).some((line) => line.startsWith(`Pushed commit ${pushed.commit_sha} to branch codeforge/runner-test in `))).toBe(true);
    expect(everything(task)).not.toContain(TOKEN);
    expect(h.edge.violations).toEqual([]);
    // The clone and the push are each timed once in the runner's phase histogram.
    const metrics = await register.metrics();
    expect(metrics).toContain('codeforge_runner_phase_duration_seconds_count{phase="clone"} 1');
    expect(metrics).toContain('codeforge_runner_phase_duration_seconds_count{phase="push"} 1');
    // The result times the push beside the clone.
    expect(completion.result!.phases?.push?.duration_ms).toBeGreaterThanOrEqual(0);
    expect(completion.result!.phases?.clone?.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it("refuse to push a change that holds a secret of the task, naming the file, and mark the masked patch", async () => {
    // The agent wrote the repository token into the change, base64-encoded: found all the same.
    const encoded = Buffer.from(TOKEN).toString("base64");
    const task = h.enqueue({ cli: "script", prompt: `config: ${encoded}`, access_token: TOKEN, push: { branch: "codeforge/leaky" } });
    const completion = await h.done(task);
    expect(completion.outcome).toBe("failed");
    expect(completion.error).toEqual({ code: "secret_in_change", message: "the change holds a secret of this task (in CHANGE.md); it was not pushed" });
    expect(remoteSha("codeforge/leaky")).toBeNull();
    expect(completion.result?.push).toBeNull();
    expect(completion.result?.patch_masked).toBe(true);
    expect(completion.result?.patch).toContain("+config: ***");
    expect(everything(task)).not.toContain(encoded);
  });

  it("push a change without secrets with an unmarked patch", async () => {
    const task = h.enqueue({ cli: "script", prompt: "config: nothing secret", access_token: TOKEN, push: { branch: "codeforge/clean" } });
    const completion = await h.done(task);
    expect(completion.outcome).toBe("succeeded");
    expect(completion.result?.patch_masked).toBe(false);
    expect(remoteSha("codeforge/clean")).toBe(completion.result!.push!.commit_sha);
  });

  it("fail with push_failed when the branch has diverged, and still report the result with its patch", async () => {
    const first = h.enqueue({ cli: "script", prompt: "First writer", push: { branch: "contested" } });
    const firstSha = (await h.done(first)).result!.push!.commit_sha;

    const second = h.enqueue({ cli: "script", prompt: "Second writer", access_token: TOKEN, push: { branch: "contested" } });
    const completion = await h.done(second);
    expect(completion.outcome).toBe("failed");
    expect(completion.error?.code).toBe("push_failed");
    expect(completion.error?.message).toMatch(/branch 'contested' already exists on the remote .*never force-pushes/);
    expect(completion.result?.patch).toContain("+Second writer");
    expect(completion.result?.push).toBeNull();
    expect(completion.result?.phases?.push?.duration_ms).toBeGreaterThanOrEqual(0);
    expect(remoteSha("contested")).toBe(firstSha);
    expect(h.logs(second).some((line) => line.startsWith("Push failed: branch 'contested'"))).toBe(true);
    expect(everything(second)).not.toContain(TOKEN);
  });

  it("push a follow-up's commit on top of the branch the previous iteration pushed", async () => {
    const first = h.enqueue({ cli: "script", prompt: "Iteration one", access_token: TOKEN, push: { branch: "codeforge/iterations" } });
    const firstSha = (await h.done(first)).result!.push!.commit_sha;

    const second = h.edge.enqueue({
      repo: { url: h.fixture.url, ref: "main" },
      cli: "script",
      prompt: "Iteration two",
      access_token: TOKEN,
      push: { branch: "codeforge/iterations" },
      iteration: 2,
      base: { kind: "branch", branch: "codeforge/iterations", commit_sha: firstSha, original_commit_sha: h.fixture.mainSha },
    });
    const completion = await h.done(second);
    expect(completion.error).toBeNull();
    const pushed = completion.result!.push!;
    // A fast-forward: the new commit's parent is the first iteration's, and the branch moved to it.
    expect(git(bare(), "log", "-1", "--format=%P", pushed.commit_sha)).toBe(firstSha);
    expect(remoteSha("codeforge/iterations")).toBe(pushed.commit_sha);
    expect(git(bare(), "show", `${pushed.commit_sha}:CHANGE.md`)).toBe("Iteration two");
    // The patch stays measured against the task's starting commit.
    expect(completion.result!.base_commit_sha).toBe(h.fixture.mainSha);
    expect(completion.result!.patch).toContain("+Iteration two");
    expect(completion.result!.patch).not.toContain("Iteration one");
  });

  it("push nothing and succeed when the CLI changed nothing", async () => {
    const task = h.enqueue({ cli: "script", prompt: "[nochange]", push: { branch: "nothing-here" } });
    const completion = await h.done(task);
    expect(completion.outcome).toBe("succeeded");
    expect(completion.result!.push).toBeNull();
    expect(completion.result!.changed_files).toEqual([]);
    expect(remoteSha("nothing-here")).toBeNull();
    expect(h.logs(task)).toContain("Nothing to push: the CLI left the repository unchanged.");
  });

  it("push nothing when the CLI fails", async () => {
    const task = h.enqueue({ cli: "demo", prompt: "Break [demo:exit=2]", push: { branch: "after-failure" } });
    const completion = await h.done(task);
    expect(completion.error?.code).toBe("cli_failed");
    expect(completion.result!.push).toBeNull();
    expect(remoteSha("after-failure")).toBeNull();
  });

  it("refuse a bad branch from the lease even though the edge should never send one (before the checkout is put on it)", async () => {
    const task = h.enqueue({ cli: "script", prompt: "Sneaky", push: { branch: "--force" } });
    const completion = await h.done(task);
    expect(completion.outcome).toBe("failed");
    expect(completion.error).toEqual({ code: "clone_failed", message: "branch refused: branch must not start with '-'" });
    expect(completion.result).toBeNull();
  });

  it("don't push when the lease doesn't ask, and report the demo CLI's usage", async () => {
    const task = h.enqueue({ cli: "demo", prompt: "No push please" });
    const completion = await h.done(task);
    expect(completion.outcome).toBe("succeeded");
    expect(completion.result!.push).toBeNull();
    expect(completion.result!.cost_usd).toBe(0);
    expect(completion.result!.usage).toEqual({
      input_tokens: "No push please".length,
      output_tokens: expect.any(Number),
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
    });
    expect(h.logs(task).some((line) => line.includes("push"))).toBe(false);
  });

  it("stop a push that outlives the task's timeout: timed_out, the result kept, nothing pushed, the workspace gone", async () => {
    // A git whose push hangs (an unresponsive remote), in front of the real one.
    const slowDir = mkdtempSync(path.join(os.tmpdir(), "codeforge-slowgit-"));
    const realGit = execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
    writeFileSync(path.join(slowDir, "git"), `#!/bin/sh\nfor arg in "$@"; do [ "$arg" = push ] && exec sleep 30; done\nexec ${realGit} "$@"\n`, {
      mode: 0o755,
    });
    try {
      await startRunner(`${slowDir}:${process.env.PATH ?? "/usr/bin:/bin"}`);
      const task = h.enqueue({ cli: "script", prompt: "Slow remote", timeout_seconds: 3, push: { branch: "never-arrives" } });
      const started = Date.now();
      const completion = await h.done(task);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(completion.outcome).toBe("timed_out");
      expect(completion.result?.changed_files).toEqual([{ path: "CHANGE.md", status: "added" }]);
      expect(completion.result?.push).toBeNull();
      expect(remoteSha("never-arrives")).toBeNull();
      expect(h.logs(task)).toContain("Committing the changes and pushing them to branch never-arrives");
      await h.edge.waitFor(() => readdirSync(h.workspaceRoot).length === 0);
    } finally {
      rmSync(slowDir, { recursive: true, force: true });
    }
  });
});
