/**
 * `TaskIndex`: one shard of the task list, so `GET /api/v1/tasks` reads a table instead of
 * asking every task object. Each owner's tasks are listed in one shard (`task-index-shards.ts`
 * picks it and merges the shards for admins). Task objects are the source of truth and report to
 * their owner's shard (see `edge/src/task/index-outbox.ts`); a shard only ever holds a copy,
 * which a task can rewrite.
 *
 * The same class is the index from before the shards (one object, named "global"): it is read no
 * more, and hands its tasks over (`handOver`) by waking each task object it lists, which then
 * migrates and reports to its owner's shard itself (task migration 9) — the task, not the old
 * copy, so a task deleted meanwhile is not listed again. A shard nudges it once per instance.
 * @module
 */
import type { TaskSummary } from "#api/task-queries.js";
import type { Env } from "../env.js";
import { SqlObject } from "../sql/sql-object.js";
import { putEntry, queryEntries, removeEntry, TASK_INDEX_MIGRATIONS, type TaskIndexEntry, type TaskIndexFilter } from "./task-index-store.js";

/** Task objects the old index wakes per alarm, and the pause between two such batches. */
const HAND_OVER_BATCH = 50;
const HAND_OVER_PAUSE_MS = 1_000;

export class TaskIndex extends SqlObject {
  /** This shard already nudged the old index to hand over (see `handOver`). */
  private nudged = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, TASK_INDEX_MIGRATIONS);
  }

  /** Records what a task reported (ignored when an equal or newer version is already stored). */
  async put(entry: TaskIndexEntry): Promise<void> {
    putEntry(this.sql, entry);
    if (!this.nudged) {
      this.nudged = true;
      // Not awaited: nothing here depends on it, and a failure is retried by the next instance.
      legacyTaskIndex(this.env)
        .handOver()
        .catch(() => (this.nudged = false));
    }
  }

  /** Forgets a task that was deleted (see the task object's retention). */
  async remove(id: string): Promise<void> {
    removeEntry(this.sql, id);
  }

  /** Up to `limit` of this shard's tasks matching the filter, newest first. */
  async entries(filter: TaskIndexFilter): Promise<TaskSummary[]> {
    return queryEntries(this.sql, filter);
  }

  /** (The old index only.) Starts handing its tasks over, from the alarm, if it still lists any. */
  async handOver(): Promise<void> {
    if (this.sql.exec("SELECT 1 FROM tasks LIMIT 1").toArray().length && (await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(Date.now());
    }
  }

  /** Wakes a batch of the tasks the old index lists, forgets those that answered, and goes on later. */
  override async alarm(): Promise<void> {
    const ids = this.sql
      .exec<{ id: string }>("SELECT id FROM tasks LIMIT ?", HAND_OVER_BATCH)
      .toArray()
      .map((r) => r.id);
    const woken = await Promise.allSettled(ids.map((id) => this.env.TASKS.get(this.env.TASKS.idFromName(id)).wake()));
    for (const [i, outcome] of woken.entries()) if (outcome.status === "fulfilled") removeEntry(this.sql, ids[i]!);
    if (this.sql.exec("SELECT 1 FROM tasks LIMIT 1").toArray().length) await this.ctx.storage.setAlarm(Date.now() + HAND_OVER_PAUSE_MS);
  }
}

/** The one index from before the shards, which hands its tasks over to them. */
export function legacyTaskIndex(env: Env) {
  return env.TASK_INDEX.get(env.TASK_INDEX.idFromName("global"));
}
