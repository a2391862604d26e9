/**
 * Unit: where a follow-up's iteration starts (`edge/src/task/iteration-base.ts`), decided from
 * the newest result: its pushed branch, else its patch on the starting commit, else refused.
 */
import { describe, expect, it } from "vitest";
import type { TaskResult } from "#api/task-result.js";
import { nextIterationBase } from "../../edge/src/task/iteration-base.js";

const START = "a".repeat(40);
const PUSHED = "b".repeat(40);

function result(overrides: Partial<TaskResult> = {}): TaskResult {
  return {
    exit_code: 0,
    duration_ms: 10,
    changed_files: [{ path: "NOTES.md", status: "added" }],
    changed_files_truncated: false,
    diff_stat: { files_changed: 1, insertions: 1, deletions: 0 },
    patch: "diff --git a/NOTES.md b/NOTES.md\n",
    patch_truncated: false,
    final_message: null,
    cost_usd: null,
    usage: null,
    usage_source: null,
    model_usage: null,
    cli_reported: null,
    patch_masked: false,
    push: null,
    sandbox: null,
    base_commit_sha: START,
    ...overrides,
  };
}

describe("nextIterationBase", () => {
  it("starts from repo.ref when no iteration has a result", () => {
    expect(nextIterationBase(null)).toEqual({ ok: true, base: null });
  });

  it("starts from the previous patch on the starting commit", () => {
    expect(nextIterationBase(result())).toEqual({ ok: true, base: { kind: "patch", patch: "diff --git a/NOTES.md b/NOTES.md\n", commit_sha: START } });
  });

  it("starts from the pushed branch at the pushed commit, even when the patch was cut", () => {
    const pushed = result({ patch_truncated: true, push: { branch: "codeforge/tsk_1", commit_sha: PUSHED } });
    expect(nextIterationBase(pushed)).toEqual({
      ok: true,
      base: { kind: "branch", branch: "codeforge/tsk_1", commit_sha: PUSHED, original_commit_sha: START },
    });
  });

  it("refuses a cut patch with nothing pushed, and says to push", () => {
    const decision = nextIterationBase(result({ patch_truncated: true, push: null }));
    expect(decision).toMatchObject({ ok: false, message: expect.stringContaining("push: true") });
  });

  it("refuses a patch with a secret masked in it when nothing was pushed (patch_masked)", () => {
    const decision = nextIterationBase(result({ patch_masked: true, push: null }));
    expect(decision).toMatchObject({ ok: false, code: "patch_masked", message: expect.stringContaining("secrets") });
    // A branch that was pushed is what the files are: a follow-up builds on it.
    const pushed = result({ patch_masked: true, push: { branch: "codeforge/tsk_1", commit_sha: PUSHED } });
    expect(nextIterationBase(pushed)).toMatchObject({ ok: true, base: { kind: "branch", commit_sha: PUSHED } });
  });

  it("refuses a result that does not name its starting commit", () => {
    const { base_commit_sha: _gone, ...old } = result();
    expect(nextIterationBase(old)).toMatchObject({ ok: false, message: expect.stringContaining("which commit") });
  });
});
