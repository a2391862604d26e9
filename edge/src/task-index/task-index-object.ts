/**
 * `TaskIndex`: the one Durable Object that lists tasks, so `GET /api/v1/tasks` reads one table
 * instead of asking every task object. Task objects are the source of truth and report to it
 * (see `edge/src/task/index-outbox.ts`); it only ever holds a copy, which a task can rewrite.
 *
 * One object serves the whole edge: each task writes it a handful of times in its life (create
 * and each status change), well within what one SQLite object takes. Should that stop being
 * true, it shards by owner without changing the API (admin lists then merge the shards).
 * @module
 */
import type { TaskStatus } from "#api/task.js";
import type { TaskList } from "#api/task-queries.js";
import type { Env } from "../env.js";
import { SqlObject } from "../sql/sql-object.js";
import { cursorAfter, parseCursor, putEntry, queryEntries, removeEntry, TASK_INDEX_MIGRATIONS, type TaskIndexEntry } from "./task-index-store.js";

export class TaskIndex extends SqlObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, TASK_INDEX_MIGRATIONS);
  }

  /** Records what a task reported (ignored when an equal or newer version is already stored). */
  async put(entry: TaskIndexEntry): Promise<void> {
    putEntry(this.sql, entry);
  }

  /** Forgets a task that was deleted (see the task object's retention). */
  async remove(id: string): Promise<void> {
    removeEntry(this.sql, id);
  }

  /** A page of tasks, newest first. `owner` null: every owner's. */
  async list(query: { owner: string | null; status?: TaskStatus; cursor?: string; limit: number }): Promise<TaskList> {
    const rows = queryEntries(this.sql, {
      owner: query.owner,
      status: query.status,
      after: query.cursor === undefined ? undefined : parseCursor(query.cursor),
      limit: query.limit + 1,
    });
    const tasks = rows.slice(0, query.limit);
    return { tasks, next_cursor: rows.length > query.limit ? cursorAfter(tasks[tasks.length - 1]!) : null };
  }
}

/** The index's stub. */
export function taskIndexOf(env: Env) {
  return env.TASK_INDEX.get(env.TASK_INDEX.idFromName("global"));
}
