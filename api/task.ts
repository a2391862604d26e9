/**
 * The task as clients see it: `Task`, its statuses (`TaskStatus`, `isTerminal`), its
 * iterations and its links. Secrets are never part of it.
 *
 * What a client submits is in `task-request.ts`, what a run produced in `task-result.ts`, and
 * the list of tasks and the read routes' queries in `task-queries.ts`. Every shape is a zod
 * schema exported with a type of the same name: the edge validates with these schemas, the
 * runner parses leases with them, and the OpenAPI document is generated from them.
 * @module
 */
import { z } from "zod";
import { ITERATIONS_MAX } from "./limits.js";
import { CliName, TaskAutonomy } from "./task-request.js";
import { TaskError, TaskResult } from "./task-result.js";
import { WebhookEventType } from "./webhook-event-types.js";

/** Where a task is in its life. The last four are terminal. */
export const TaskStatus = z.enum(["queued", "leased", "running", "succeeded", "failed", "timed_out", "canceled"]);
export type TaskStatus = z.infer<typeof TaskStatus>;

export const TERMINAL_STATUSES: readonly TaskStatus[] = ["succeeded", "failed", "timed_out", "canceled"];

/** True once a task can no longer change. */
export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export const TaskLinks = z.object({
  self: z.string(),
  events: z.string(),
  stream: z.string(),
  cancel: z.string(),
  deliveries: z.string(),
  /** `POST` a follow-up here once the task has ended. */
  instructions: z.string(),
});
export type TaskLinks = z.infer<typeof TaskLinks>;

/**
 * One iteration of a task, as the task's `iterations` list shows it. Its `result` leaves out
 * the patch, to keep the task view small: every iteration's whole result (patch included) is
 * its `result` event in the log, from `first_seq` on, and the current one's is the task's
 * `result`. Patches are cumulative, so the latest holds every change so far.
 */
export const TaskIteration = z.object({
  /** 1 for the task as created, 2 for its first follow-up, … */
  n: z.number().int().positive(),
  prompt: z.string(),
  model: z.string().nullable(),
  status: TaskStatus,
  /** Attempts this iteration used (they restart at 1 for every iteration). */
  attempt: z.number().int().nonnegative(),
  result: TaskResult.omit({ patch: true }).nullable(),
  error: TaskError.nullable(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  /** Sequence number of the iteration's first event (`since=first_seq-1` replays just it). */
  first_seq: z.number().int().positive(),
});
export type TaskIteration = z.infer<typeof TaskIteration>;

/** A task as clients see it. Secrets are never part of it. */
export const Task = z.object({
  id: z.string(),
  /** Status of the current iteration (see `iteration`); `result`, `error`, `attempt`,
   * `prompt`, `model` and the start and finish times describe the current iteration too. */
  status: TaskStatus,
  /** The current iteration: 1 until a follow-up is given (`POST …/instructions`). */
  iteration: z.number().int().positive(),
  /** Every iteration so far, oldest first; the last is the current one. */
  iterations: z.array(TaskIteration).max(ITERATIONS_MAX),
  repo: z.object({ url: z.string(), ref: z.string().nullable() }),
  prompt: z.string(),
  cli: CliName,
  model: z.string().nullable(),
  timeout_seconds: z.number().int(),
  priority: z.number().int(),
  pool: z.string(),
  labels: z.array(z.string()),
  max_attempts: z.number().int(),
  stall_timeout_seconds: z.number().int().nullable(),
  /** How much the CLI may do in its sandbox (see `CreateTaskRequest.autonomy`); `full` for tasks made before it existed. */
  autonomy: TaskAutonomy,
  /** The task's narrowing of its pool's egress policy (lowercase patterns); null: the pool's policy as it is. */
  egress_allow: z.array(z.string()).nullable(),
  /** The task's setup commands (see `CreateTaskRequest.setup`); null: none given (the runner pool's default setup applies). */
  setup: z.array(z.string()).nullable(),
  /** The current iteration's budget (see `CreateTaskRequest.max_cost_usd`); null: none set (the runner pool's defaults apply). */
  max_cost_usd: z.number().nullable(),
  max_tokens: z.number().int().nullable(),
  max_turns: z.number().int().nullable(),
  /** Whether the task carries an access token / which env names it carries (never the values). */
  has_access_token: z.boolean(),
  env_names: z.array(z.string()),
  metadata: z.record(z.string(), z.string()),
  /** Whether the task pushes its change when it succeeds. */
  push: z.boolean(),
  /** The branch it pushes to (the one asked for, else `codeforge/<task-id>`); null without `push`. */
  branch: z.string().nullable(),
  /** Where webhooks about the task go (normalized), or null. */
  callback_url: z.string().nullable(),
  /** The events sent to `callback_url` (empty without one). */
  callback_events: z.array(WebhookEventType),
  attempt: z.number().int().nonnegative(),
  runner_id: z.string().nullable(),
  cancel_requested: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  result: TaskResult.nullable(),
  error: TaskError.nullable(),
  /**
   * While queued: why no runner has taken the task yet, when the edge can tell (no runner in
   * the pool offers its CLI, none has its labels, all capable runners are busy). Null otherwise.
   */
  waiting_reason: z.string().nullable(),
  /** Sequence number of the newest event in the task's log. */
  last_seq: z.number().int().nonnegative(),
  links: TaskLinks,
});
export type Task = z.infer<typeof Task>;
