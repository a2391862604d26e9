/**
 * The `codeforge` command's exit codes, so scripts can branch on a task's outcome.
 * @module
 */
import type { TaskStatus } from "../../api/task.js";

export const EXIT = {
  ok: 0,
  /** The task ended `failed`. */
  taskFailed: 10,
  taskTimedOut: 11,
  taskCanceled: 12,
  /** Bad flags or arguments. */
  usage: 2,
  /** The edge answered with an error (4xx/5xx). */
  apiError: 3,
  /** The edge could not be reached. */
  unreachable: 4,
} as const;

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
}
