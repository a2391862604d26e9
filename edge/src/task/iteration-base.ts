/**
 * Where a follow-up's iteration starts, decided from the latest result the task has.
 *
 * Patches are cumulative — every iteration's patch is taken against the commit the task
 * started from (`base_commit_sha`) — so the newest result is all a follow-up needs: the branch
 * it pushed, at the commit it pushed, or else its patch, applied to the starting commit. A
 * patch cut at the size cap cannot be applied, so with nothing pushed the follow-up is refused
 * rather than started on half the work, and so is one whose patch had a secret of the task
 * masked in it (`patch_masked`): that patch no longer matches the files it describes. A task
 * no iteration of which has a result (it never got as far as a result) starts again from
 * `repo.ref`.
 * @module
 */
import type { IterationBase } from "#api/runner-protocol.js";
import type { TaskResult } from "#api/task-result.js";

/** What a result says was pushed; tolerant of results from before pushes were reported. */
export function pushOf(result: TaskResult): { branch: string; commit_sha: string } | null {
  // Results stored before pushing existed have no `push`: they pushed nothing.
  return result.push ?? null;
}

export type BaseDecision = { ok: true; base: IterationBase | null } | { ok: false; code: "invalid_state" | "patch_masked"; message: string };

/** The base of the next iteration, from the newest result of any iteration (null: none has one). */
export function nextIterationBase(latest: TaskResult | null): BaseDecision {
  if (latest === null) return { ok: true, base: null };
  const original = latest.base_commit_sha;
  if (original === undefined) {
    return {
      ok: false,
      code: "invalid_state",
      message: "the last result does not say which commit it started from (its runner predates follow-ups); submit a new task",
    };
  }
  const push = pushOf(latest);
  if (push) return { ok: true, base: { kind: "branch", branch: push.branch, commit_sha: push.commit_sha, original_commit_sha: original } };
  if (latest.patch_masked) {
    return {
      ok: false,
      code: "patch_masked",
      message:
        "the last iteration's change contained one of the task's secrets, which was masked in its patch, and nothing was pushed, so a follow-up cannot build on it; submit a new task",
    };
  }
  if (latest.patch_truncated) {
    return {
      ok: false,
      code: "invalid_state",
      message:
        "the last iteration's patch was cut at the size cap and nothing was pushed, so a follow-up cannot start from its changes; submit the task with push: true to build on a branch instead",
    };
  }
  return { ok: true, base: { kind: "patch", patch: latest.patch, commit_sha: original } };
}
