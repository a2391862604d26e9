/**
 * The pools in use and the latest snapshot (gauges and runners) of each of their Dispatchers, in
 * the PoolRegistry's SQLite: one row per Dispatcher (a pool's shard: `<pool>` or `<pool>#<n>`,
 * see `dispatcher/shards.ts`), replaced by each of its pushes. Reads add a pool's rows up: a
 * pool's shards sort next to each other (`#` sorts before every character a pool name may have).
 *
 * A row not reported for `POOL_STALE_MS` has had no runner and no queued task for that long
 * and is forgotten.
 * @module
 */
import type { RunnerInfo } from "#api/runner-protocol.js";
import { parseShardName } from "../dispatcher/shards.js";
import type { Migration, Sql } from "../sql/migrations.js";
import { EMPTY_GAUGES, gaugesAt, liveRunners, type PoolGauges, type PoolSnapshot } from "./pool-snapshot.js";

/** Well beyond the runner staleness window (2 min), so a pool with live runners is never dropped. */
export const POOL_STALE_MS = 24 * 3_600_000;

/** Bounds the table (Dispatchers: pools × their shards) whatever pool names runners send. */
export const POOLS_MAX = 1_000;

export const POOL_MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: "pools",
    statements: ["CREATE TABLE pools (name TEXT PRIMARY KEY, reported_at INTEGER NOT NULL)"],
  },
  {
    id: 2,
    name: "pool snapshots",
    statements: ["ALTER TABLE pools ADD COLUMN snapshot TEXT", "CREATE INDEX pools_reported_at ON pools (reported_at)"],
  },
];

/** Stores a Dispatcher's newest snapshot; beyond `POOLS_MAX` rows, the longest silent is dropped. */
export function storeSnapshot(sql: Sql, name: string, snapshot: PoolSnapshot, now: number): void {
  sql.exec(
    `INSERT INTO pools (name, reported_at, snapshot) VALUES (?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET reported_at = excluded.reported_at, snapshot = excluded.snapshot`,
    name,
    now,
    JSON.stringify(snapshot),
  );
  if (sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM pools").one().n > POOLS_MAX) {
    sql.exec("DELETE FROM pools WHERE name NOT IN (SELECT name FROM pools ORDER BY reported_at DESC LIMIT ?)", POOLS_MAX);
  }
}

/** Forgets pools not reported within `POOL_STALE_MS`. */
function forgetStale(sql: Sql, now: number): void {
  sql.exec("DELETE FROM pools WHERE reported_at < ?", now - POOL_STALE_MS);
}

/** Pools reported within `POOL_STALE_MS`, by name. */
export function listPools(sql: Sql, now: number): string[] {
  forgetStale(sql, now);
  const names = sql.exec<{ name: string }>("SELECT name FROM pools ORDER BY name").toArray();
  return [...new Set(names.map((r) => parseShardName(r.name).pool))];
}

/** Rows in name order, grouped by pool: each pool with its shards' snapshots (null: none pushed yet). */
function* byPool(rows: Iterable<{ name: string; snapshot: string | null }>): Generator<{ pool: string; snapshots: (PoolSnapshot | null)[] }> {
  let current: { pool: string; snapshots: (PoolSnapshot | null)[] } | null = null;
  for (const row of rows) {
    const { pool } = parseShardName(row.name);
    const snapshot = row.snapshot === null ? null : (JSON.parse(row.snapshot) as PoolSnapshot);
    if (current && current.pool === pool) current.snapshots.push(snapshot);
    else {
      if (current) yield current;
      current = { pool, snapshots: [snapshot] };
    }
  }
  if (current) yield current;
}

/** A pool's runners from its shards' snapshots: each once, as the shard that heard from it last has it, by id. */
function poolRunners(snapshots: (PoolSnapshot | null)[], now: number): RunnerInfo[] {
  const byId = new Map<string, RunnerInfo>();
  for (const s of snapshots) {
    if (s === null) continue;
    for (const runner of liveRunners(s, now)) {
      const seen = byId.get(runner.id);
      if (!seen || runner.last_seen_at > seen.last_seen_at) byId.set(runner.id, runner);
    }
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Every pool's gauges as of `now`, by name: its shards' queues and hand-outs added up, its runners counted once. */
export function poolGauges(sql: Sql, now: number): { pool: string; gauges: PoolGauges }[] {
  forgetStale(sql, now);
  const rows = sql.exec<{ name: string; snapshot: string | null }>("SELECT name, snapshot FROM pools ORDER BY name");
  return [...byPool(rows)].map(({ pool, snapshots }) => {
    const shards = snapshots.map((s) => (s === null ? EMPTY_GAUGES : gaugesAt(s, now)));
    const runners = poolRunners(snapshots, now);
    const gauges: PoolGauges = {
      queued: shards.reduce((n, g) => n + g.queued, 0),
      oldestQueuedAgeSeconds: Math.max(0, ...shards.map((g) => g.oldestQueuedAgeSeconds)),
      inProgress: shards.reduce((n, g) => n + g.inProgress, 0),
      runnersTotal: runners.length,
      runnersActive: runners.filter((r) => r.running > 0).length,
    };
    // A shard with more runners than a snapshot carries counted them itself (every shard hears of every runner).
    if (snapshots.some((snap) => snap?.runnersCut)) {
      gauges.runnersTotal = Math.max(...shards.map((g) => g.runnersTotal));
      gauges.runnersActive = Math.max(...shards.map((g) => g.runnersActive));
    }
    return { pool, gauges };
  });
}

/** Where a page of runners starts: after this runner of this pool. */
export interface RunnerPosition {
  pool: string;
  runnerId: string;
}

/**
 * Up to `limit` live runners in (pool, id) order after `after`, of `pool` only when given, and
 * the position of the last one when more follow (null on the last page). Reads one pool's row
 * at a time, so a page costs the pools it spans, not every pool.
 */
export function runnersPage(
  sql: Sql,
  q: { pool?: string; after?: RunnerPosition; limit: number },
  now: number,
): { runners: RunnerInfo[]; next: RunnerPosition | null } {
  forgetStale(sql, now);
  const from = q.after?.pool ?? "";
  const rows =
    q.pool === undefined
      ? sql.exec<{ name: string; snapshot: string | null }>("SELECT name, snapshot FROM pools WHERE name >= ? ORDER BY name", from)
      : sql.exec<{ name: string; snapshot: string | null }>(
          "SELECT name, snapshot FROM pools WHERE (name = ? OR name LIKE ? ESCAPE '\\') AND name >= ? ORDER BY name",
          q.pool,
          `${q.pool.replace(/[\\%_]/g, "\\$&")}#%`,
          from,
        );
  const page: RunnerInfo[] = [];
  let lastPool = "";
  for (const { pool, snapshots } of byPool(rows)) {
    for (const runner of poolRunners(snapshots, now)) {
      if (q.after && pool === q.after.pool && runner.id <= q.after.runnerId) continue;
      if (page.length === q.limit) return { runners: page, next: { pool: lastPool, runnerId: page[page.length - 1]!.id } };
      page.push(runner);
      lastPool = pool;
    }
  }
  return { runners: page, next: null };
}
