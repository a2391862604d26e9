/**
 * The attempt's checkout phase: the task's repository cloned into the workspace, while the CLI
 * waits in its sandbox — or, for a follow-up, checked out where the last iteration left off
 * (`git/iteration-checkout.ts`). The task's `access_token` goes to git only (askpass, see
 * `git/git-clone.ts`).
 * @module
 */
import type { AttemptPhases, CloneCache } from "#api/index.js";
import { CloneError } from "../git/git-clone.js";
import { checkoutIteration, taskBranch } from "../git/iteration-checkout.js";
import { timePhase } from "../telemetry/runner-metrics.js";
import { withSpan } from "../telemetry/tracing.js";
import type { Workspace } from "../workspace/workspace.js";
import { endWith, type Attempt, type Step } from "./attempt.js";
import { failure, stoppedReport } from "./attempt-report.js";

/** The commits a checkout starts from. */
export interface Checkout {
  /** How long the checkout took, and whether its objects came from the repository cache. */
  phase: NonNullable<AttemptPhases["clone"]>;
  /** What every diff of the attempt is taken against: the commit the task started from. */
  baseSha: string;
  /** The commit checked out, which a pushed commit follows. */
  headSha: string;
}

/** What the task's log says about the repository cache after the checkout line. */
const CACHE_NOTE: Record<CloneCache, string> = {
  off: "",
  cold: " (the runner's repository cache had no copy yet: made one)",
  miss: " (from the runner's repository cache, updated first)",
  hit: " (from the runner's repository cache)",
  fallback: " (the repository cache was busy or broken: cloned from the remote alone)",
};

/** Checks the repository out into `workspace`; ends the attempt when that fails or a stop came meanwhile. */
export async function checkOut(attempt: Attempt, workspace: Workspace): Promise<Step<Checkout>> {
  const { lease, options, batcher } = attempt;
  const { url, ref } = lease.task.repo;
  batcher.log("info", `Cloning ${url} (${ref ?? "default branch"})${lease.task.iteration > 1 ? ` for iteration ${lease.task.iteration}` : ""}`);
  let checkout: Checkout;
  try {
    const clone = {
      url,
      ref,
      dir: workspace.repoDir,
      homeDir: workspace.homeDir,
      pathEnv: options.pathEnv,
      accessToken: lease.task.access_token,
      credentialsDir: workspace.runnerDir,
      lookup: options.lookup,
      cache: options.repoCache,
      ...options.gitPolicy,
      signal: attempt.signal,
    };
    const started = performance.now();
    const { baseSha, headSha, description, cache } = await timePhase(options.metrics, "clone", () =>
      withSpan("git.clone", (span) =>
        checkoutIteration(lease.task.base, { ...clone, branch: taskBranch(lease) }).then((done) => {
          span.setAttribute("codeforge.clone_cache", done.cache);
          return done;
        }),
      ),
    );
    const seconds = (performance.now() - started) / 1_000;
    options.metrics?.observeClone(cache, seconds);
    checkout = { baseSha, headSha, phase: { duration_ms: Math.round(seconds * 1_000), cache } };
    batcher.log("info", description);
    batcher.log("info", `Checkout took ${seconds.toFixed(1)} s${CACHE_NOTE[cache]}`);
  } catch (err) {
    if (attempt.stopReason) return endWith(stoppedReport(attempt.stopReason, null), attempt.stopReason);
    const message = attempt.masker.mask(err instanceof CloneError ? err.message : `clone failed: ${String(err)}`);
    batcher.log("error", message);
    return endWith(failure("clone_failed", message), attempt.stopReason);
  }
  if (attempt.stopReason) return endWith(stoppedReport(attempt.stopReason, null), attempt.stopReason);
  return { next: checkout };
}
