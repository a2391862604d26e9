/**
 * Keeps what a task's setup left in the checkout out of the task's change.
 *
 * A setup installs dependencies and generates files the CLI needs; they are the environment,
 * not the work. Files and directories it added that the repository does not already ignore
 * (a `node_modules` without a `.gitignore` entry, a generated client) would otherwise show in
 * the patch and be pushed. After a setup that succeeded, every untracked path is appended to
 * the checkout's `.git/info/exclude` (anchored, glob characters escaped), which `git add --all`
 * honours when the change is described and pushed. Tracked files a setup changed still count.
 *
 * The checkout is the sandbox's to change, so its `.git` is not trusted: the runner's git runs
 * with the checkout safety settings (`run-git.ts`), and the exclude file is written only through
 * real directories and never through a link (`O_NOFOLLOW`). Nothing in the sandbox runs
 * meanwhile: the setup's processes have ended and the CLI is still held.
 * @module
 */
import { constants } from "node:fs";
import { lstat, mkdir, open } from "node:fs/promises";
import path from "node:path";
import { gitOutput, type RunGitOptions } from "./run-git.js";

/**
 * Excludes the checkout's untracked paths from its change; returns how many were excluded.
 * @example
 * await excludeUntracked({ repoDir, env: gitEnv({ path, homeDir }) });
 */
export async function excludeUntracked(options: RunGitOptions): Promise<number> {
  const listed = await gitOutput(options, ["ls-files", "--others", "--exclude-standard", "--directory", "--no-empty-directory", "-z"]);
  // A name with a line break cannot be one pattern; it stays in the change.
  const paths = listed.split("\0").filter((name) => name && !/[\n\r]/.test(name));
  if (paths.length === 0) return 0;
  const gitDir = path.join(options.repoDir, ".git");
  const infoDir = path.join(gitDir, "info");
  if (!(await lstat(gitDir)).isDirectory()) throw new Error("the checkout's .git is not a directory");
  const info = await lstat(infoDir).catch(() => null);
  if (!info) await mkdir(infoDir);
  else if (!info.isDirectory()) throw new Error("the checkout's .git/info is not a directory");
  const file = await open(path.join(infoDir, "exclude"), constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
  try {
    await file.appendFile(`\n# Left by the task's setup: not part of its change.\n${paths.map(excludePattern).join("\n")}\n`);
  } finally {
    await file.close();
  }
  return paths.length;
}

/** `path` (a directory ends in `/`) as a pattern matching it alone: anchored, its glob characters and a leading `#` or `!` escaped. */
export function excludePattern(gitPath: string): string {
  return `/${gitPath.replace(/[\\*?[\]!#]/g, (c) => `\\${c}`).replace(/ $/, "\\ ")}`;
}
