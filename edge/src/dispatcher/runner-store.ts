/**
 * The runners a pool's Dispatcher has seen, in its SQLite: who they are, what they offer, how
 * busy they said they were, and when they were last heard from.
 *
 * The Dispatcher already sees every lease request of its pool, so recording runners there costs
 * no extra round trip. A runner that is busy does not poll for leases; its heartbeats keep it
 * listed instead (`touchRunner`). A runner not heard from for `RUNNER_STALE_MS` is pruned: it
 * stopped, crashed or lost its network, and it must not make a task look servable.
 * @module
 */
import type { RunnerInfo } from "#api/runner-protocol.js";
import type { Migration, Sql } from "../sql/migrations.js";

/** Long polls last up to 25 s and heartbeats come every few seconds: two silent minutes is gone. */
export const RUNNER_STALE_MS = 120_000;

/** Bounds the table whatever runners claim to be: far more runners than one pool should have. */
export const RUNNERS_PER_POOL_MAX = 1_000;

/** What a lease request says about its runner. */
export interface RunnerSighting {
  runnerId: string;
  version: string | null;
  pool: string;
  clis: string[];
  labels: string[];
  running: number;
  capacity: number;
}

export const RUNNER_MIGRATIONS: readonly Migration[] = [
  {
    id: 2,
    name: "runners",
    statements: [
      `CREATE TABLE runners (
        id TEXT PRIMARY KEY,
        version TEXT,
        pool TEXT NOT NULL,
        clis TEXT NOT NULL,
        labels TEXT NOT NULL,
        running INTEGER NOT NULL,
        capacity INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL
      )`,
      "CREATE INDEX runners_last_seen ON runners (last_seen_at)",
    ],
  },
];

interface RunnerRow extends Record<string, SqlStorageValue> {
  id: string;
  version: string | null;
  pool: string;
  clis: string;
  labels: string;
  running: number;
  capacity: number;
  last_seen_at: number;
}

/** Records (or refreshes) a runner from its lease request; true when the pool had not seen it (lately). */
export function recordRunner(sql: Sql, runner: RunnerSighting, now: number): boolean {
  const known = sql.exec("SELECT 1 FROM runners WHERE id = ? AND last_seen_at >= ?", runner.runnerId, now - RUNNER_STALE_MS).toArray().length > 0;
  sql.exec(
    `INSERT INTO runners (id, version, pool, clis, labels, running, capacity, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET version = excluded.version, pool = excluded.pool, clis = excluded.clis,
       labels = excluded.labels, running = excluded.running, capacity = excluded.capacity, last_seen_at = excluded.last_seen_at`,
    runner.runnerId,
    runner.version,
    runner.pool,
    JSON.stringify(runner.clis),
    JSON.stringify(runner.labels),
    runner.running,
    runner.capacity,
    now,
  );
  pruneRunners(sql, now);
  return !known;
}

/** The runner just took a task: count it busy until its next lease request says otherwise. */
export function countTaken(sql: Sql, runnerId: string): void {
  sql.exec("UPDATE runners SET running = MIN(running + 1, capacity) WHERE id = ?", runnerId);
}

/** A busy runner is alive (it heartbeats a task); keeps it listed. */
export function touchRunner(sql: Sql, runnerId: string, now: number): void {
  sql.exec("UPDATE runners SET last_seen_at = MAX(last_seen_at, ?) WHERE id = ?", now, runnerId);
}

/** Drops runners not heard from for `RUNNER_STALE_MS`, and the oldest beyond the table's bound. */
export function pruneRunners(sql: Sql, now: number): void {
  sql.exec("DELETE FROM runners WHERE last_seen_at < ?", now - RUNNER_STALE_MS);
  sql.exec("DELETE FROM runners WHERE id NOT IN (SELECT id FROM runners ORDER BY last_seen_at DESC LIMIT ?)", RUNNERS_PER_POOL_MAX);
}

/** The runners seen within `RUNNER_STALE_MS`, by id. */
export function listRunners(sql: Sql, now: number): RunnerInfo[] {
  pruneRunners(sql, now);
  return sql
    .exec<RunnerRow>("SELECT * FROM runners ORDER BY id")
    .toArray()
    .map((row) => ({
      id: row.id,
      version: row.version,
      pool: row.pool,
      clis: JSON.parse(row.clis) as string[],
      labels: JSON.parse(row.labels) as string[],
      running: row.running,
      capacity: row.capacity,
      last_seen_at: new Date(row.last_seen_at).toISOString(),
    }));
}
