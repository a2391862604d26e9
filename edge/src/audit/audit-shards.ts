/**
 * Where audit entries live: one `AuditLog` object per UTC day and per `AUDIT_SHARDS_PER_DAY`
 * slice of actors (the actor's hash picks the slice), so a day's writes spread over several
 * objects, one actor's entries stay in order in one of them, and a day past its retention is
 * emptied whole by its own alarm.
 *
 * Queries merge the shards of the days they cover that the directory lists, newest day first
 * (`audit-query.ts`).
 * @module
 */
import type { Env } from "../env.js";
import { shardIndex } from "../sharding/shard-index.js";
import { AUDIT_DIRECTORY_NAME } from "./audit-directory.js";

/**
 * Objects a day's entries are spread over. Eight take ~8× one object's write rate (a few
 * thousand audited writes a second) while a query of a day costs eight calls (one when it
 * names the actor). Raise it freely for new days; an existing day's shards keep their entries,
 * but lowering it hides the shards of a day left above the new count.
 */
export const AUDIT_SHARDS_PER_DAY = 8;

export const DAY_MS = 86_400_000;

/** The UTC day (days since the epoch) of a time in ms. */
export const dayOf = (ms: number): number => Math.floor(ms / DAY_MS);

/** The slice of a day an actor's entries go to. */
export const auditShardOf = (actor: string): number => shardIndex(actor, AUDIT_SHARDS_PER_DAY);

/** The shard of `day` (days since the epoch) and slice `shard`. */
export function auditShard(env: Env, day: number, shard: number) {
  return env.AUDIT.get(env.AUDIT.idFromName(`day-${new Date(day * DAY_MS).toISOString().slice(0, 10)}-${shard}`));
}

/** The directory of shards holding entries (`audit-directory.ts`). */
export function auditDirectory(env: Env) {
  return env.AUDIT.get(env.AUDIT.idFromName(AUDIT_DIRECTORY_NAME));
}
