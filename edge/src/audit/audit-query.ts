/**
 * `GET /api/v1/audit` over the day shards: the directory names the shards of the range that
 * hold entries (one call); then, newest day first, each day's shards are asked in parallel
 * (only the actor's slice when the query names an actor) for their newest entries before the
 * cursor, merged by (time, slice, seq). A page stops as soon as it has more than `limit`
 * entries, so a busy log costs one day's calls.
 *
 * A sparse query (a filter that matches little) could walk every day of the retention window
 * in one request; it stops after `AUDIT_QUERY_CALLS_MAX` shard calls instead and answers what
 * it found with a cursor at the start of the last day it read, so the next page goes on from
 * there. A page may so be short, or empty, with a `next_cursor`: only a null `next_cursor`
 * says the log has nothing older.
 * @module
 */
import type { AuditPage, AuditQuery } from "#api/audit.js";
import { AUDIT_RETENTION_DAYS } from "#api/limits.js";
import type { Env } from "../env.js";
import { auditDirectory, auditShard, auditShardOf, DAY_MS, dayOf } from "./audit-shards.js";
import { type AuditPosition, auditEntryId, parseAuditPosition } from "./audit-store.js";

/** Shard calls one page may make: well under a request's subrequest limit. */
export const AUDIT_QUERY_CALLS_MAX = 64;

const newestFirst = (a: AuditPosition, b: AuditPosition) => b.at - a.at || b.shard - a.shard || b.seq - a.seq;

export async function queryAuditShards(env: Env, q: AuditQuery, now: number): Promise<AuditPage> {
  const sinceMs = Math.max(q.since === undefined ? 0 : Date.parse(q.since), (dayOf(now) - AUDIT_RETENTION_DAYS) * DAY_MS);
  const untilMs = q.until === undefined ? undefined : Date.parse(q.until);
  const before = q.cursor === undefined ? undefined : parseAuditPosition(q.cursor);
  // The newest instant the page can hold; entries are never dated far past now.
  // A cursor with seq 0 (a day boundary, see below) is itself older than anything it may show.
  const beforeEnd = before === undefined ? Number.POSITIVE_INFINITY : before.seq === 0 ? before.at : before.at + 1;
  const newest = Math.min(untilMs ?? Number.POSITIVE_INFINITY, beforeEnd, now + DAY_MS);
  const actorSlice = q.actor === undefined ? null : auditShardOf(q.actor);
  const filter = { actor: q.actor, action: q.action, target: q.target, sinceMs, untilMs, before, limit: q.limit + 1 };
  const listed = await auditDirectory(env).shards(dayOf(sinceMs), dayOf(newest - 1));
  const days = new Map<number, number[]>();
  for (const { day, slice } of listed) if (actorSlice === null || slice === actorSlice) days.set(day, [...(days.get(day) ?? []), slice]);

  const found: (AuditPage["entries"][number] & { position: AuditPosition })[] = [];
  const strip = () => found.map(({ position: _, ...e }) => e);
  let calls = 0;
  for (const [day, slices] of days) {
    if (found.length > q.limit) break;
    if (calls + slices.length > AUDIT_QUERY_CALLS_MAX) {
      // Out of calls: what was found is all of the days read; the next page starts before `day + 1`.
      return { entries: strip(), next_cursor: auditEntryId({ at: (day + 1) * DAY_MS, shard: 0, seq: 0 }) };
    }
    calls += slices.length;
    const pages = await Promise.all(slices.map((slice) => auditShard(env, day, slice).query(slice, filter)));
    for (const entry of pages.flat()) found.push({ ...entry, position: parseAuditPosition(entry.id) });
    found.sort((a, b) => newestFirst(a.position, b.position));
  }
  const page = strip().slice(0, q.limit);
  return { entries: page, next_cursor: found.length > q.limit ? page[page.length - 1]!.id : null };
}
