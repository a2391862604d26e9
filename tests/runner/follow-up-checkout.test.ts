// Integration: follow-ups on the runner. A real HTTP fake edge, the real lease loop and task
// runner, real git against file:// repositories and the demo CLI as a real child process: an
// iteration that starts from the previous one's patch (or pushed branch) sees its change, and
// reports a patch that is cumulative against the task's starting commit.
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { IterationBase } from "#api/index.js";
import { git } from "./harness/git-fixture.js";
import { useRunner } from "./harness/use-runner.js";

const h = useRunner({ runner: { runnerId: "followup-runner", concurrency: 1 }, doneTimeoutMs: 15_000 });

async function firstIteration(prompt: string) {
  const task = h.enqueue({ prompt });
  const completion = await h.done(task);
  expect(completion.outcome, JSON.stringify(completion.error)).toBe("succeeded");
  return { task, result: completion.result! };
}

describe("follow-up iterations on the runner", () => {
  it("reports the commit the task started from", async () => {
    const { result } = await firstIteration("First request");
    expect(result.base_commit_sha).toBe(h.fixture.mainSha);
  });

  it("starts from the previous patch: the CLI sees the earlier change and the new patch holds both", async () => {
    const { result: first } = await firstIteration("First request");
    const base: IterationBase = { kind: "patch", patch: first.patch, commit_sha: first.base_commit_sha! };
    const second = h.enqueue({ prompt: "Second request", iteration: 2, base });
    const completion = await h.done(second);

    expect(h.edge.violations).toEqual([]);
    expect(completion.outcome, JSON.stringify(completion.error)).toBe("succeeded");
    // The file was there: the CLI edited it rather than writing it anew.
    expect(h.tools(second)).toEqual(["Edit"]);
    const result = completion.result!;
    expect(result.base_commit_sha).toBe(h.fixture.mainSha);
    // Cumulative against the starting commit: the file is still new, and both requests are in it.
    expect(result.changed_files).toEqual([{ path: "CODEFORGE_NOTES.md", status: "added" }]);
    expect(result.patch).toContain("+- First request\n");
    expect(result.patch).toContain("+- Second request\n");
    expect(result.diff_stat).toEqual({ files_changed: 1, insertions: 6, deletions: 0 });
    expect(h.logs(second)).toContain(`Continuing from the previous iteration's patch, applied on ${h.fixture.mainSha}, on branch codeforge/${second.id}`);
  });

  it("starts from a pushed branch at the pushed commit, and diffs against the starting commit", async () => {
    // What a first iteration with push: true leaves: a branch with its commit on top of main.
    const work = path.join(h.fixture.dir, "pusher");
    git(h.fixture.dir, "clone", "--quiet", "--branch", "main", h.fixture.url, work);
    writeFileSync(path.join(work, "CODEFORGE_NOTES.md"), "# CodeForge notes\n\n## Requests\n\n- Pushed request\n");
    git(work, "add", "-A");
    git(work, "commit", "--quiet", "-m", "iteration 1");
    const pushedSha = git(work, "rev-parse", "HEAD");
    git(work, "push", "--quiet", "origin", "HEAD:refs/heads/codeforge/tsk_pushed");
    // The branch moves on afterwards: the follow-up must still start at the pushed commit.
    writeFileSync(path.join(work, "LATER.md"), "later\n");
    git(work, "add", "-A");
    git(work, "commit", "--quiet", "-m", "someone else");
    git(work, "push", "--quiet", "origin", "HEAD:refs/heads/codeforge/tsk_pushed");

    const base: IterationBase = { kind: "branch", branch: "codeforge/tsk_pushed", commit_sha: pushedSha, original_commit_sha: h.fixture.mainSha };
    const task = h.enqueue({ prompt: "Second request", iteration: 2, base });
    const completion = await h.done(task);

    expect(completion.outcome, JSON.stringify(completion.error)).toBe("succeeded");
    expect(h.tools(task)).toEqual(["Edit"]);
    const result = completion.result!;
    expect(result.base_commit_sha).toBe(h.fixture.mainSha);
    expect(result.changed_files).toEqual([{ path: "CODEFORGE_NOTES.md", status: "added" }]);
    expect(result.patch).toContain("+- Pushed request\n");
    expect(result.patch).toContain("+- Second request\n");
    expect(result.patch).not.toContain("LATER.md");
  });

  it("fails as clone_failed, without starting the CLI, when the previous patch does not apply", async () => {
    const patch = ["diff --git a/README.md b/README.md", "--- a/README.md", "+++ b/README.md", "@@ -1 +1 @@", "-# Not what is there", "+# Changed", ""].join(
      "\n",
    );
    const task = h.enqueue({ prompt: "Go on", iteration: 2, base: { kind: "patch", patch, commit_sha: h.fixture.mainSha } });
    const completion = await h.done(task);
    expect(completion.outcome).toBe("failed");
    expect(completion.error?.code).toBe("clone_failed");
    expect(completion.error?.message).toMatch(/^the previous iteration's patch did not apply: /);
    expect(h.tools(task)).toEqual([]);
  });

  it("refuses a patch that writes outside the checkout", async () => {
    const outside = path.join(h.workspaceRoot, "..", `escaped-${Date.now()}`);
    const rel = path.relative(path.join(h.workspaceRoot, "x", "repo"), outside);
    const patch = [`diff --git a/${rel} b/${rel}`, "new file mode 100644", "--- /dev/null", `+++ b/${rel}`, "@@ -0,0 +1 @@", "+escaped", ""].join("\n");
    const task = h.enqueue({ prompt: "Go on", iteration: 2, base: { kind: "patch", patch, commit_sha: h.fixture.mainSha } });
    const completion = await h.done(task);
    expect(completion.error?.code).toBe("clone_failed");
    expect(completion.error?.message).toMatch(/did not apply/);
    expect(existsSync(outside)).toBe(false);
  });
});
