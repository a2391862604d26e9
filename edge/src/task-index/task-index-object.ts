/**
 * `TaskIndex`: one shard of the task list, so `GET /api/v1/tasks` reads a table instead of
 * asking every task object. Each owner's tasks are listed in one shard (`task-index-shards.ts`
 * picks it and merges the shards for admins). Task objects are the source of truth and report to
 * their owner's shard (see `edge/src/task/index-outbox.ts`); a shard only ever holds a copy,
 * which a task can rewrite.
 * @module
 */
import type { TaskSummary } from "#api/task-queries.js";
import type { Env } from "../env.js";
import { SqlObject } from "../sql/sql-object.js";
import { putEntry, queryEntries, removeEntry, TASK_INDEX_MIGRATIONS, type TaskIndexEntry, type TaskIndexFilter } from "./task-index-store.js";

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

  /** Up to `limit` of this shard's tasks matching the filter, newest first. */
  async entries(filter: TaskIndexFilter): Promise<TaskSummary[]> {
    return queryEntries(this.sql, filter);
  }
}
