/**
 * The pools that have had runners or queued tasks lately, in the PoolRegistry's SQLite.
 *
 * Dispatchers report their pool at most once per `POOL_REPORT_INTERVAL_MS` while runners poll it
 * or tasks are queued in it (a queued task re-offers itself every 30 s); a pool not reported for
 * `POOL_STALE_MS` has had neither for that long and is forgotten.
 * @module
 */
import type { Migration, Sql } from "../sql/migrations.js";

/** How often a Dispatcher with live runners tells the registry its pool exists. */
export const POOL_REPORT_INTERVAL_MS = 60_000;

/** Well beyond the runner staleness window (2 min), so a pool with live runners is never dropped. */
export const POOL_STALE_MS = 24 * 3_600_000;

/** Bounds the table (and the fan-out of a runners list) whatever pool names runners send. */
export const POOLS_MAX = 1_000;

export const POOL_MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: "pools",
    statements: ["CREATE TABLE pools (name TEXT PRIMARY KEY, reported_at INTEGER NOT NULL)"],
  },
];

export function reportPool(sql: Sql, name: string, now: number): void {
  sql.exec("INSERT INTO pools (name, reported_at) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET reported_at = excluded.reported_at", name, now);
  sql.exec("DELETE FROM pools WHERE name NOT IN (SELECT name FROM pools ORDER BY reported_at DESC LIMIT ?)", POOLS_MAX);
}

/** Pools reported within `POOL_STALE_MS`, by name; older ones are deleted. */
export function listPools(sql: Sql, now: number): string[] {
  sql.exec("DELETE FROM pools WHERE reported_at < ?", now - POOL_STALE_MS);
  return sql
    .exec<{ name: string }>("SELECT name FROM pools ORDER BY name")
    .toArray()
    .map((r) => r.name);
}
