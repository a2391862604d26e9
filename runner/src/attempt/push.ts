/**
 * The attempt's push phase: the change checked for the task's secrets, then committed and
 * pushed when the task asks (`git/git-push.ts`).
 *
 * A change that holds a secret of the task is never pushed (`secret_in_change`), and its patch
 * is marked as masked (`secrets/secret-scan.ts`). A push happens only after the CLI exited 0
 * unstopped; a push that fails fails the task with `push_failed`, and the result (with its
 * patch) is still reported. Once pushed, the work is done and reported as such, even if a stop
 * arrived meanwhile (running the task again would only find its own branch in the way).
 * @module
 */
import type { TaskResult } from "#api/index.js";
import { commitMessage } from "../git/commit-message.js";
import { gitEnv } from "../git/git-hardening.js";
import { commitAndPush, PushError, type CommitIdentity } from "../git/git-push.js";
import { filesWithSecrets } from "../secrets/secret-scan.js";
import { timePhase } from "../telemetry/runner-metrics.js";
import { withSpan } from "../telemetry/tracing.js";
import type { Workspace } from "../workspace/workspace.js";
import { endWith, type Attempt, type Step } from "./attempt.js";
import { stoppedReport } from "./attempt-report.js";
import type { Checkout } from "./checkout.js";

export const DEFAULT_COMMIT_IDENTITY: CommitIdentity = { name: "CodeForge", email: "codeforge@localhost" };

/** Scans the change for secrets and pushes it when the task asks; the result, now with its push. */
export async function pushChanges(attempt: Attempt, workspace: Workspace, { baseSha, headSha }: Checkout, result: TaskResult): Promise<Step<TaskResult>> {
  const { lease, options, batcher, masker, log, now } = attempt;
  // A secret of the task in the change: never pushed, and the patch says it was masked.
  const git = gitEnv({ path: options.pathEnv, homeDir: workspace.homeDir });
  const leaked = await filesWithSecrets({ repoDir: workspace.repoDir, baseSha, env: git, masker });
  if (leaked.length > 0) {
    result.patch_masked = true;
    const files = `${leaked.slice(0, 5).join(", ")}${leaked.length > 5 ? ` and ${leaked.length - 5} more` : ""}`;
    if (lease.task.push) {
      const message = `the change holds a secret of this task (in ${files}); it was not pushed`;
      batcher.log("error", `Not pushing: ${message}.`);
      return endWith({ outcome: "failed", result, error: { code: "secret_in_change", message } }, null);
    }
    batcher.log(
      "warn",
      `The change holds a secret of this task (in ${files}): the patch shows it masked, so it does not match the files and a follow-up cannot build on it.`,
    );
  }
  if (!lease.task.push) return { next: result };

  const { branch } = lease.task.push;
  batcher.log("info", `Committing the changes and pushing them to branch ${branch}`);
  const pushStartedAt = now();
  try {
    result.push = await timePhase(options.metrics, "push", () =>
      withSpan("git.push", () =>
        commitAndPush({
          repoDir: workspace.repoDir,
          // On top of what was checked out: a follow-up's commit follows the branch's last one.
          baseSha: headSha,
          url: lease.task.repo.url,
          branch,
          message: masker.mask(commitMessage({ prompt: lease.task.prompt, taskId: attempt.taskId, cli: lease.task.cli, model: lease.task.model })),
          identity: options.commitIdentity ?? DEFAULT_COMMIT_IDENTITY,
          pathEnv: options.pathEnv,
          runnerDir: workspace.runnerDir,
          accessToken: lease.task.access_token,
          lookup: options.lookup,
          ...options.gitPolicy,
          signal: attempt.signal,
        }),
      ),
    );
  } catch (err) {
    const pushMs = now() - pushStartedAt;
    result.phases = { ...result.phases, push: { duration_ms: Math.round(pushMs) } };
    if (attempt.stopReason) return endWith(stoppedReport(attempt.stopReason, result), attempt.stopReason);
    const message = masker.mask(err instanceof PushError ? err.message : `push failed: ${String(err)}`);
    log.warn({ phase: "push", duration_ms: pushMs, err: message }, "push failed");
    batcher.log("error", `Push failed: ${message}`);
    return endWith({ outcome: "failed", result, error: { code: "push_failed", message } }, null);
  }
  const pushMs = now() - pushStartedAt;
  result.phases = { ...result.phases, push: { duration_ms: Math.round(pushMs) } };
  log.info({ phase: "push", duration_ms: pushMs, branch, commit_sha: result.push?.commit_sha ?? null }, "push phase done");
  batcher.log(
    "info",
    result.push ? `Pushed commit ${result.push.commit_sha} to branch ${branch} in ${pushMs} ms` : "Nothing to push: the CLI left the repository unchanged.",
  );
  // Pushed: the work is done and reported as such, even if a stop arrived meanwhile.
  return { next: result };
}
