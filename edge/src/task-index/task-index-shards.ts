/**
 * The task index, sharded by owner: `TASK_INDEX_SHARDS` `TaskIndex` objects, and every task
 * listed in the one its owner's key hashes to. A key's list reads one shard; an admin's list of
 * every key's tasks reads every shard and merges their pages newest first. Both orders are the
 * same total order — creation time, then id, both descending — so a cursor (the last task of a
 * page) names a position in every shard at once and pages stay exact across shards.
 * @module
 */
import type { TaskStatus } from "#api/task.js";
import type { TaskList, TaskSummary } from "#api/task-queries.js";
import type { Env } from "../env.js";
import { cursorAfter, parseCursor } from "./task-index-store.js";

/**
 * How many shards the index has. A fixed constant, not a setting: a task's shard is
 * `hash(owner) mod TASK_INDEX_SHARDS`, so changing it moves most owners to another shard, where
 * none of their tasks are listed (and where retention would not find them to delete) until every
 * task reported again. Raising it takes a migration that makes every task report again
 * (as task migration 9 did when the index was first sharded). 16 shards take 16 times the
 * writes and the storage of one; an admin's list asks all 16 in parallel.
 */
export const TASK_INDEX_SHARDS = 16;

/** FNV-1a (32 bits) of the owner's UTF-8 bytes: stable across releases and runtimes, as it must be. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** The shard that lists `owner`'s tasks. */
export function shardOf(owner: string): number {
  return fnv1a(owner) % TASK_INDEX_SHARDS;
}

/** The `TaskIndex` object of one shard. */
export function taskIndexShard(env: Env, shard: number) {
  return env.TASK_INDEX.get(env.TASK_INDEX.idFromName(`shard-${shard}`));
}

/** The `TaskIndex` object that lists `owner`'s tasks (where its tasks report, and are removed). */
export function taskIndexFor(env: Env, owner: string) {
  return taskIndexShard(env, shardOf(owner));
}

export interface TaskListQuery {
  /** Null: every owner's tasks (admins), merged across the shards. */
  owner: string | null;
  status?: TaskStatus;
  cursor?: string;
  limit: number;
}

/** A page of tasks, newest first: from the owner's shard, or merged from every shard. */
export async function listTasks(env: Env, query: TaskListQuery): Promise<TaskList> {
  const page = {
    owner: query.owner,
    status: query.status,
    after: query.cursor === undefined ? undefined : parseCursor(query.cursor),
    // One more than asked: whether there is a next page.
    limit: query.limit + 1,
  };
  const rows =
    query.owner !== null
      ? await taskIndexFor(env, query.owner).entries(page)
      : newestFirst(await Promise.all(Array.from({ length: TASK_INDEX_SHARDS }, (_, shard) => taskIndexShard(env, shard).entries(page)))).slice(0, page.limit);
  const tasks = rows.slice(0, query.limit);
  return { tasks, next_cursor: rows.length > query.limit ? cursorAfter(tasks[tasks.length - 1]!) : null };
}

/** Pages of several shards, each newest first, as one list newest first (creation time, then id). */
export function newestFirst(pages: readonly (readonly TaskSummary[])[]): TaskSummary[] {
  const key = (t: TaskSummary) => Date.parse(t.created_at);
  return pages.flat().sort((a, b) => key(b) - key(a) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}
