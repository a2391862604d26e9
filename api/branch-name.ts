/**
 * Which branch names a task may push to.
 *
 * The edge checks `branch` at submission so a client hears "no" at once, naming the field; the
 * runner checks again before it pushes, because it does not trust the edge with its own
 * safety. The rules are `git check-ref-format --branch`'s, narrowed: a charset of letters,
 * digits and `._/-` (nothing a shell, a URL or a log line could misread), no leading `-` (git
 * would read it as an option), no `HEAD`, and a bounded length.
 * @module
 */

/** Longest branch name accepted: far above any real one, far below git's and hosts' limits. */
export const BRANCH_NAME_MAX_CHARS = 200;

/** Prefix of the branch a task pushes to when the client names none: `codeforge/<task-id>`. */
export const DEFAULT_BRANCH_PREFIX = "codeforge/";

const BRANCH_CHARSET = /^[A-Za-z0-9._/-]+$/;

/** Why `name` is not an acceptable branch name, or null when it is. */
export function checkBranchName(name: string): string | null {
  if (name.length === 0 || name.length > BRANCH_NAME_MAX_CHARS) return `branch must be 1 to ${BRANCH_NAME_MAX_CHARS} characters`;
  if (name.startsWith("-")) return "branch must not start with '-'";
  if (!BRANCH_CHARSET.test(name)) return "branch may only contain letters, digits, '.', '_', '/' and '-'";
  if (name === "HEAD" || name === "@") return `'${name}' is not a branch name git accepts`;
  if (name.includes("..") || name.includes("//")) return "branch must not contain '..' or '//'";
  if (name.startsWith("/") || name.endsWith("/") || name.endsWith(".")) return "branch must not start or end with '/', or end with '.'";
  for (const part of name.split("/")) {
    if (part.startsWith(".")) return "no part of a branch name may start with '.'";
    if (part.endsWith(".lock")) return "no part of a branch name may end with '.lock'";
  }
  return null;
}

/** The branch a task pushes to: the one it asked for, else `codeforge/<task-id>`. */
export function pushBranchFor(taskId: string, requested: string | undefined | null): string {
  return requested ?? `${DEFAULT_BRANCH_PREFIX}${taskId}`;
}
