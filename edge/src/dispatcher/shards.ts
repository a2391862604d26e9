/**
 * A pool's Dispatcher, split over `DISPATCHER_SHARDS` objects so no one object takes every
 * enqueue and lease poll of a busy pool. Shard 0 is named after the pool itself (so one shard
 * is exactly the single Dispatcher of before) and answers for the whole pool where a reader
 * asks one object (`runners`, `gauges`); shard n is `<pool>#<n>` (`#` is not allowed in a pool
 * name, so the names never collide).
 *
 * - A task queues in its owner key's shard: all of a key's tasks in one place, so its
 *   `max_concurrent_tasks` slots and `max_queued_tasks` admissions stay exact.
 * - A runner has a home shard (by its id) where it long-polls; before it waits, and again every
 *   `STEAL_EVERY_MS` while it waits, it takes from the other shards (work stealing), so a task
 *   queued in a shard where no runner waits is picked up within seconds. Its lease requests
 *   tell every shard about it, so each knows the pool's runners (waiting reasons).
 * @module
 */
import type { Env } from "../env.js";

/** While a runner long-polls its home shard, it looks at the others this often. */
export const STEAL_EVERY_MS = 5_000;

/** The object name of shard `shard` of `pool`. */
export function shardName(pool: string, shard: number): string {
  return shard === 0 ? pool : `${pool}#${shard}`;
}

/** The pool and shard of a Dispatcher's object name; shard 0 for a pool's own name. */
export function parseShardName(name: string): { pool: string; shard: number } {
  const at = name.indexOf("#");
  return at < 0 ? { pool: name, shard: 0 } : { pool: name.slice(0, at), shard: Number(name.slice(at + 1)) };
}

/** Which of `shards` a key (owner key, runner id) falls in: FNV-1a, stable across isolates. */
export function shardOf(key: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % shards;
}

export function dispatcherShard(env: Env, pool: string, shard: number) {
  return env.DISPATCHERS.get(env.DISPATCHERS.idFromName(shardName(pool, shard)));
}

/** The shard the tasks of `owner` in `pool` queue in (and where its admissions are asked). */
export function ownerDispatcher(env: Env, shards: number, pool: string, owner: string) {
  return dispatcherShard(env, pool, shards === 1 ? 0 : shardOf(owner, shards));
}

/** A runner's shards: its home shard first, then the others in turn. */
export function runnerDispatchers(env: Env, shards: number, pool: string, runnerId: string) {
  const home = shards === 1 ? 0 : shardOf(runnerId, shards);
  return Array.from({ length: shards }, (_, i) => dispatcherShard(env, pool, (home + i) % shards));
}
