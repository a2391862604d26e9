/**
 * The message of the commit a task pushes.
 *
 * Its subject is the prompt's first non-empty line, trimmed and cut to fit a `git log
 * --oneline`, so the branch reads as what was asked; its body names the task and the CLI, with
 * a `CodeForge-Task` trailer that tools (and people) can search for.
 * @module
 */

/** Subject characters kept before cutting: git's customary 72-column limit. */
export const COMMIT_SUBJECT_MAX_CHARS = 72;

export interface CommitMessageInput {
  prompt: string;
  taskId: string;
  cli: string;
  model: string | null;
}

/**
 * @example
 * commitMessage({ prompt: "Fix the login bug\nIt 500s on empty passwords", taskId, cli: "claude", model: null });
 * // "Fix the login bug\n\nTask tsk_…, run by CodeForge with claude.\n\nCodeForge-Task: tsk_…\n"
 */
export function commitMessage(input: CommitMessageInput): string {
  const subject = commitSubject(input.prompt) ?? `CodeForge task ${input.taskId}`;
  const by = `${input.cli}${input.model ? ` (model ${input.model})` : ""}`;
  return `${subject}\n\nTask ${input.taskId}, run by CodeForge with ${by}.\n\nCodeForge-Task: ${input.taskId}\n`;
}

/** The prompt's first line with text, whitespace collapsed, control characters dropped, cut with "…". */
export function commitSubject(prompt: string): string | null {
  for (const raw of prompt.split(/\r?\n|\r/)) {
    // eslint-disable-next-line no-control-regex
    const line = raw
      .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "")
      .replace(/\s+/g, " ")
      .trim();
    if (!line) continue;
    const chars = [...line];
    return chars.length <= COMMIT_SUBJECT_MAX_CHARS
      ? line
      : `${chars
          .slice(0, COMMIT_SUBJECT_MAX_CHARS - 1)
          .join("")
          .trimEnd()}…`;
  }
  return null;
}
