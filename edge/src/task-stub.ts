/**
 * How routes reach a task object: the stub for a well-formed task id (an id that cannot exist
 * is a 404 without waking any object), and the unwrapping of its typed RPC outcomes.
 * @module
 */
import { TASK_ID_PATTERN } from "#api/ids.js";
import { ApiError } from "./api-error.js";
import type { Env } from "./env.js";
import type { Outcome } from "./task/task-rpc.js";

export function taskStub(env: Env, id: string) {
  if (!TASK_ID_PATTERN.test(id)) throw new ApiError("not_found", "task not found");
  return env.TASKS.get(env.TASKS.idFromName(id));
}

/** The value of an outcome, or the contract error it carries thrown as an `ApiError`. */
export function unwrap<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new ApiError(outcome.code, outcome.message, outcome.field);
  return outcome.value;
}
