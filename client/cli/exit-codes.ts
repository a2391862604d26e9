/**
 * The `codeforge` command's exit codes, so scripts can branch on a task's outcome and on why a
 * command failed (retry later, fix the key, fix the command).
 * @module
 */
import type { TaskStatus } from "#api/task.js";

export const EXIT = {
  ok: 0,
  /** Something the command did not expect (a bug): the message says what. */
  unexpected: 1,
  /** Bad flags or arguments, or an unusable config file. */
  usage: 2,
  /** The edge refused the request (4xx other than below) or failed (5xx). */
  apiError: 3,
  /** The edge could not be reached, or what answered is not the CodeForge API. */
  unreachable: 4,
  /** The key was refused (401) or lacks the scope or address the route needs (403). */
  auth: 5,
  /** Rate limited (429) or temporarily unavailable (503): try again after `Retry-After`. */
  retryLater: 6,
  /** `diff`: the task (or the iteration asked for) has no result yet. */
  noResult: 7,
  /** The task ended `failed`. */
  taskFailed: 10,
  taskTimedOut: 11,
  taskCanceled: 12,
} as const;

/** The exit codes as `codeforge --help` and the README list them. */
export const EXIT_CODES_HELP = `Exit codes:
  0   ok; for submit --follow, watch and status: the task succeeded (or has not ended yet)
  10  the task failed        11  it timed out        12  it was canceled
  1   unexpected error       2   usage error (flags, arguments, config file)
  3   the API refused the request or failed (error code and request id are printed)
  4   the edge is unreachable, or the URL is not a CodeForge edge
  5   the API key was refused (401) or lacks a scope or address (403)
  6   rate limited (429) or unavailable (503): retry after the time printed
  7   diff: the task has no result yet`;

/** Exit code for a task that ended with `status`. */
export function exitCodeFor(status: TaskStatus): number {
  switch (status) {
    case "succeeded":
      return EXIT.ok;
    case "timed_out":
      return EXIT.taskTimedOut;
    case "canceled":
      return EXIT.taskCanceled;
    case "failed":
      return EXIT.taskFailed;
    default:
      return EXIT.ok; // still running: the command itself succeeded
  }
}

/** A problem with how the command was called. */
export class UsageError extends Error {
  override name = "UsageError";
  /** What to read or do about it; the command's help when the command says nothing. */
  hint: string | undefined;
  constructor(message: string, options: { hint?: string } = {}) {
    super(message);
    this.hint = options.hint;
  }
}
