/**
 * The task read routes' queries and the task list: `EventsQuery` and `StreamQuery` (a task's
 * event log and live stream), and `GET /api/v1/tasks` — its query, its cursor and its page of
 * `TaskSummary` rows.
 * @module
 */
import { z } from "zod";
import { TASK_INDEX_PROMPT_CHARS, TASKS_PAGE_DEFAULT, TASKS_PAGE_MAX } from "./limits.js";
import { TaskStatus } from "./task.js";
import { CliName } from "./task-request.js";
import { TaskError } from "./task-result.js";

/** Query of `GET /api/v1/tasks/:id/events`. */
export const EventsQuery = z.strictObject({
  since: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1_000).default(500),
});
export type EventsQuery = z.infer<typeof EventsQuery>;

/** Query of `GET /api/v1/tasks/:id/stream`. */
export const StreamQuery = z.strictObject({
  since: z.coerce.number().int().min(0).default(0),
});
export type StreamQuery = z.infer<typeof StreamQuery>;

/**
 * A task as `GET /api/v1/tasks` lists it: what a table of tasks needs, from the task index
 * (read `links.self` for the whole task). It follows the task within moments of each status
 * change.
 */
export const TaskSummary = z.object({
  id: z.string(),
  /** The key id that submitted it (`admin` for the bootstrap key). */
  owner: z.string(),
  status: TaskStatus,
  cli: CliName,
  model: z.string().nullable(),
  repo: z.object({ url: z.string(), ref: z.string().nullable() }),
  pool: z.string(),
  /** The first characters of the prompt (at most `TASK_INDEX_PROMPT_CHARS`). */
  prompt_excerpt: z.string().max(TASK_INDEX_PROMPT_CHARS),
  created_at: z.string(),
  /** When the task last changed status. */
  updated_at: z.string(),
  finished_at: z.string().nullable(),
  /** Why it did not succeed, once it ended so. */
  error_code: TaskError.shape.code.nullable(),
  links: z.object({ self: z.string() }),
});
export type TaskSummary = z.infer<typeof TaskSummary>;

/** A `next_cursor`: the creation time (ms) and id of the last task of a page. */
export const TASK_LIST_CURSOR_PATTERN = /^[0-9]{1,15}_tsk_[0-9a-hjkmnp-tv-z]{26}$/;

/** Query of `GET /api/v1/tasks`: newest first. */
export const TaskListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(TASKS_PAGE_MAX).default(TASKS_PAGE_DEFAULT),
  /** `next_cursor` of the previous page. */
  cursor: z.string().regex(TASK_LIST_CURSOR_PATTERN, "cursor must be a next_cursor value").optional(),
  /** Only tasks with this status. */
  status: TaskStatus.optional(),
  /** Admin only: only tasks of this key id (`admin` for the bootstrap key). A non-admin may name only itself. */
  owner: z
    .string()
    .regex(/^(admin|key_[0-9a-hjkmnp-tv-z]{16})$/, "owner must be a key id (key_…) or admin")
    .optional(),
});
export type TaskListQuery = z.infer<typeof TaskListQuery>;

/** `GET /api/v1/tasks` */
export const TaskList = z.object({
  tasks: z.array(TaskSummary),
  /** Pass as `cursor` for the next page; null on the last. */
  next_cursor: z.string().nullable(),
});
export type TaskList = z.infer<typeof TaskList>;
