/**
 * Per-attempt workspace directories, confined to the workspace root and removed after use.
 *
 * The runner names each directory itself (`<task_id>-a<attempt>-<random>`) rather than
 * trusting anything from the task, checks that the resolved path stays under the root, and
 * gives the CLI its own `home/` and `tmp/` beside the checkout so nothing it writes there ends
 * up in the diff, and nothing of it outlives the task. `scratch/` holds files the runner hands
 * the CLI (a prompt file) and the CLI's own bookkeeping outside the checkout. `runner/` is the
 * runner's own corner (the git askpass helper, the push repository, the sandbox's proxy
 * socket): outside the checkout, and never shown to the CLI's sandbox.
 * @module
 */
import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";

export interface Workspace {
  /** The attempt's directory: holds `repo/`, `home/`, `tmp/`, `scratch/` and `runner/`. */
  readonly dir: string;
  /** Where the repository is checked out and the CLI runs. */
  readonly repoDir: string;
  /** `HOME` for the CLI. */
  readonly homeDir: string;
  /** `TMPDIR` for the CLI. */
  readonly tmpDir: string;
  /** Files for the CLI outside the checkout (prompt files, its history). */
  readonly scratchDir: string;
  /** The runner's own files for this attempt, outside the checkout; never in the sandbox. */
  readonly runnerDir: string;
  /** Deletes the whole directory. Safe to call more than once. */
  remove(): Promise<void>;
}

const SAFE_TASK_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Creates a fresh workspace for one attempt of a task.
 * @example
 * const ws = await createWorkspace({ root: config.workspace_root, taskId: lease.task_id, attempt: lease.attempt });
 * try { … } finally { await ws.remove(); }
 */
export async function createWorkspace(options: { root: string; taskId: string; attempt: number }): Promise<Workspace> {
  if (!SAFE_TASK_ID.test(options.taskId)) throw new Error("task id has characters that cannot name a directory");
  if (!Number.isInteger(options.attempt) || options.attempt < 1) throw new Error("attempt must be a positive integer");
  const root = path.resolve(options.root);
  const name = `${options.taskId}-a${options.attempt}-${randomBytes(6).toString("hex")}`;
  const dir = confine(root, path.join(root, name));
  await mkdir(root, { recursive: true, mode: 0o700 });
  // Not recursive: failing on an existing directory means no two attempts ever share one.
  await mkdir(dir, { mode: 0o700 });
  const homeDir = path.join(dir, "home");
  const tmpDir = path.join(dir, "tmp");
  const scratchDir = path.join(dir, "scratch");
  const runnerDir = path.join(dir, "runner");
  await Promise.all([mkdir(homeDir), mkdir(tmpDir), mkdir(scratchDir), mkdir(runnerDir, { mode: 0o700 })]);
  return {
    dir,
    repoDir: path.join(dir, "repo"),
    homeDir,
    tmpDir,
    scratchDir,
    runnerDir,
    remove: () => rm(confine(root, dir), { recursive: true, force: true, maxRetries: 3 }),
  };
}

/** Returns `candidate` resolved, or throws unless it lies strictly inside `root`. */
export function confine(root: string, candidate: string): string {
  const resolvedRoot = path.resolve(root);
  const resolved = path.resolve(resolvedRoot, candidate);
  const relative = path.relative(resolvedRoot, resolved);
  if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) {
    throw new Error(`path escapes the workspace root: ${candidate}`);
  }
  return resolved;
}
