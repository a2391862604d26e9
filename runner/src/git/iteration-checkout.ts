/**
 * Checks out where a task's iteration starts, and names the commit its changes are measured
 * against.
 *
 * The first iteration clones `repo.ref`; its commit is the task's starting commit. A follow-up
 * (iteration n+1) starts from what the previous one left, as the lease's `base` says: the
 * branch it pushed — fetched by the exact commit it pushed, plus the starting commit so the
 * diff can be taken against it — or else its patch, applied with `git apply` to the starting
 * commit. Either way the returned `baseSha` is the task's starting commit, so every
 * iteration's patch is cumulative and the latest one holds all changes so far.
 *
 * Whatever the base, the checkout ends on a named branch — the task's push branch
 * (`codeforge/<task-id>` or the one the task chose), the only local branch there is — so the
 * agent never finds a detached HEAD. Only refs move (`update-ref`, `symbolic-ref`): the working
 * tree, an applied patch included, stays as it is, and no hook or checkout filter runs. The
 * diff, commit and push that follow take explicit commits, never the branch.
 *
 * All fetching goes through `cloneRepository` (checked URL and host, pinned addresses, no
 * submodules or redirects, askpass for the token), and so through the runner's repository cache
 * when it has one: a follow-up's commits — the pushed branch's head and the starting commit —
 * are usually in the repository's mirror already, which holds every branch; `git apply` runs with the checkout safety
 * settings (no hooks, no fsmonitor, no global config) and refuses paths outside the checkout
 * and through symbolic links, as git does by default.
 * @module
 */
import { execa } from "execa";
import { checkBranchName, pushBranchFor, type IterationBase, type Lease } from "#api/index.js";
import { CloneError, cloneRepository, type CloneOptions } from "./git-clone.js";
import type { CloneCache } from "./mirror-clone.js";
import { CHECKOUT_SAFETY_CONFIG, CHECKOUT_SAFETY_ENV, gitEnv } from "./git-hardening.js";

/** Longest git error text passed on in a task's error message. */
const APPLY_ERROR_MAX_CHARS = 1_000;

export interface IterationCheckout {
  /** The task's starting commit: every iteration's patch is taken against it. */
  baseSha: string;
  /** The commit checked out (a pushed branch's head in a follow-up): the parent of a pushed commit. */
  headSha: string;
  /** A line for the task's log saying where this iteration starts. */
  description: string;
  /** Where the clone's objects came from (the runner's repository cache, or the remote). */
  cache: CloneCache;
}

export interface IterationCheckoutOptions extends CloneOptions {
  /** The local branch the checkout is left on (the task's push branch). */
  branch: string;
}

/** The branch a task's checkout is on: where it pushes, else `codeforge/<task-id>` as if it did. */
export function taskBranch(lease: Pick<Lease, "task_id"> & { task: Pick<Lease["task"], "push"> }): string {
  return lease.task.push?.branch ?? pushBranchFor(lease.task_id, null);
}

/**
 * Prepares `options.dir` for an iteration whose base is `base` (null: clone `options.ref`).
 * Throws `CloneError` with a message safe to show the task's owner.
 * @example
 * const { baseSha } = await checkoutIteration(lease.task.base, { url, ref, dir: ws.repoDir, … });
 */
export async function checkoutIteration(base: IterationBase | null, options: IterationCheckoutOptions): Promise<IterationCheckout> {
  const branchProblem = checkBranchName(options.branch);
  if (branchProblem) throw new CloneError(`branch refused: ${branchProblem}`);
  const checkout = await checkoutBase(base, options);
  await nameBranch(options.dir, options.branch, checkout.headSha, gitEnv({ path: options.pathEnv, homeDir: options.homeDir }), options.signal);
  return { ...checkout, description: `${checkout.description}, on branch ${options.branch}` };
}

async function checkoutBase(base: IterationBase | null, options: CloneOptions): Promise<IterationCheckout> {
  if (base === null) {
    const { baseSha, cache } = await cloneRepository(options);
    return { baseSha, headSha: baseSha, description: `Checked out ${baseSha}`, cache };
  }
  if (base.kind === "branch") {
    const { baseSha: head, cache } = await cloneRepository({ ...options, ref: base.commit_sha, alsoFetch: base.original_commit_sha });
    if (head !== base.commit_sha) throw new CloneError(`expected ${base.branch} at ${base.commit_sha}, got ${head}`);
    return {
      baseSha: base.original_commit_sha,
      headSha: head,
      description: `Continuing from branch ${base.branch} at ${base.commit_sha} (changes are measured against ${base.original_commit_sha})`,
      cache,
    };
  }
  const { baseSha, cache } = await cloneRepository({ ...options, ref: base.commit_sha });
  if (base.patch.length > 0) await applyPatch(options.dir, base.patch, gitEnv({ path: options.pathEnv, homeDir: options.homeDir }), options.signal);
  return { baseSha, headSha: baseSha, description: `Continuing from the previous iteration's patch, applied on ${baseSha}`, cache };
}

/**
 * Leaves HEAD on `branch` at `sha` with no other local branch beside it (the clone's own, say
 * `main`, could clash with it as a file and a folder: `codeforge` and `codeforge/…`).
 */
async function nameBranch(repoDir: string, branch: string, sha: string, env: Record<string, string>, signal?: AbortSignal): Promise<void> {
  const git = async (args: string[]) => {
    const result = await execa("git", [...CHECKOUT_SAFETY_CONFIG.flatMap((setting) => ["-c", setting]), ...args], {
      cwd: repoDir,
      env: { ...env, ...CHECKOUT_SAFETY_ENV },
      extendEnv: false,
      stdin: "ignore",
      reject: false,
      cancelSignal: signal,
    });
    if (signal?.aborted) throw new CloneError("checkout aborted");
    if (result.exitCode !== 0)
      throw new CloneError(
        `could not put the checkout on branch ${branch}: ${String(result.stderr ?? "")
          .trim()
          .slice(0, APPLY_ERROR_MAX_CHARS)}`,
      );
    return String(result.stdout ?? "");
  };
  await git(["update-ref", "--no-deref", "HEAD", sha]);
  const locals = (await git(["for-each-ref", "--format=%(refname)", "refs/heads/"])).split("\n").filter(Boolean);
  for (const ref of locals) await git(["update-ref", "-d", ref]);
  await git(["update-ref", `refs/heads/${branch}`, sha]);
  await git(["symbolic-ref", "HEAD", `refs/heads/${branch}`]);
}

/** Applies a patch (as `git diff --binary` wrote it) to the working tree of `repoDir`. */
async function applyPatch(repoDir: string, patch: string, env: Record<string, string>, signal?: AbortSignal): Promise<void> {
  const config = CHECKOUT_SAFETY_CONFIG.flatMap((setting) => ["-c", setting]);
  const result = await execa("git", [...config, "apply", "--whitespace=nowarn", "-"], {
    cwd: repoDir,
    env: { ...env, ...CHECKOUT_SAFETY_ENV },
    extendEnv: false,
    input: patch,
    reject: false,
    cancelSignal: signal,
  });
  if (signal?.aborted) throw new CloneError("checkout aborted");
  if (result.exitCode !== 0) {
    const text = String(result.stderr ?? "")
      .trim()
      .slice(0, APPLY_ERROR_MAX_CHARS);
    throw new CloneError(`the previous iteration's patch did not apply: ${text || `git apply exited with ${result.exitCode ?? result.signal}`}`);
  }
}
