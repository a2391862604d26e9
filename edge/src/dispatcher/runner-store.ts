/**
 * The runners a pool's Dispatcher has seen: who they are, what they offer, how busy they said
 * they were, and when they were last heard from. Read from memory; kept in SQLite so a fresh
 * instance of the Dispatcher knows them at once.
 *
 * The Dispatcher already sees every lease request of its pool, so recording runners there costs
 * no extra round trip. A runner with a free slot long-polls for work; a runner with none sends a
 * lease request that takes nothing (`running` ≥ `capacity`) every `RUNNER_PRESENCE_INTERVAL`
 * — one call per runner, however many tasks it runs. A poll that says nothing new writes
 * nothing: a runner's row is written when what it says changes, and otherwise once every
 * `RUNNER_STORE_EVERY_MS` to keep its stored `last_seen_at` roughly fresh. A runner not heard
 * from for `RUNNER_STALE_MS` is gone (stopped, crashed, cut off) and must not make a task look
 * servable: reads leave it out at once, and the Dispatcher's alarm deletes its row.
 *
 * No cap on the count: a row exists only for a runner id that sent a signed lease request in
 * the last two minutes, so the table is bounded by the pool's own traffic (at the ~1,000
 * requests/s one object serves, 120,000 rows at the very most), and pruning keeps it there.
 * @module
 */
import type { RunnerInfo } from "#api/runner-protocol.js";
import type { Migration, Sql } from "../sql/migrations.js";

/** Long polls last up to 25 s and busy runners say they are alive every 30 s: two silent minutes is gone. */
export const RUNNER_STALE_MS = 120_000;

/** A stored `last_seen_at` is refreshed this often at most when nothing else changed. */
export const RUNNER_STORE_EVERY_MS = 30_000;

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

interface Seen {
  runner: RunnerSighting;
  lastSeenAt: number;
  /** What the stored row says (all but `last_seen_at`), and when it was written. */
  stored: string;
  storedAt: number;
}

/** The fields of a sighting the row stores, as one comparable string. */
const rowKey = (r: RunnerSighting): string => JSON.stringify([r.version, r.pool, r.clis, r.labels, r.running, r.capacity]);

export class RunnerRegistry {
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly sql: Sql,
    now: number,
  ) {
    const rows = sql.exec<RunnerRow>("SELECT * FROM runners WHERE last_seen_at >= ?", now - RUNNER_STALE_MS).toArray();
    for (const row of rows) {
      const runner: RunnerSighting = {
        runnerId: row.id,
        version: row.version,
        pool: row.pool,
        clis: JSON.parse(row.clis) as string[],
        labels: JSON.parse(row.labels) as string[],
        running: row.running,
        capacity: row.capacity,
      };
      this.seen.set(row.id, { runner, lastSeenAt: row.last_seen_at, stored: rowKey(runner), storedAt: row.last_seen_at });
    }
  }

  /** Records (or refreshes) a runner from its lease request; true when the pool had not seen it (lately). */
  record(runner: RunnerSighting, now: number): boolean {
    const before = this.seen.get(runner.runnerId);
    const known = before !== undefined && before.lastSeenAt >= now - RUNNER_STALE_MS;
    const key = rowKey(runner);
    const entry: Seen = { runner, lastSeenAt: now, stored: before?.stored ?? "", storedAt: before?.storedAt ?? 0 };
    if (!known || key !== entry.stored || now - entry.storedAt >= RUNNER_STORE_EVERY_MS) {
      this.sql.exec(
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
      entry.stored = key;
      entry.storedAt = now;
    }
    this.seen.set(runner.runnerId, entry);
    return !known;
  }

  /** The runner just took a task: count it busy until its next lease request says otherwise (memory only). */
  countTaken(runnerId: string): void {
    const entry = this.seen.get(runnerId);
    if (entry) entry.runner = { ...entry.runner, running: Math.min(entry.runner.running + 1, entry.runner.capacity) };
  }

  /** The runners seen within `RUNNER_STALE_MS`, by id. */
  list(now: number): RunnerInfo[] {
    const fresh = [...this.seen.values()].filter((s) => s.lastSeenAt >= now - RUNNER_STALE_MS);
    return fresh
      .sort((a, b) => (a.runner.runnerId < b.runner.runnerId ? -1 : a.runner.runnerId > b.runner.runnerId ? 1 : 0))
      .map(({ runner, lastSeenAt }) => ({
        id: runner.runnerId,
        version: runner.version,
        pool: runner.pool,
        clis: runner.clis,
        labels: runner.labels,
        running: runner.running,
        capacity: runner.capacity,
        last_seen_at: new Date(lastSeenAt).toISOString(),
      }));
  }

  /** How many runners are remembered (stale ones not yet pruned included). */
  get size(): number {
    return this.seen.size;
  }

  /** Forgets runners not heard from for `RUNNER_STALE_MS`, in memory and in SQLite (the Dispatcher's alarm). */
  prune(now: number): void {
    for (const [id, s] of this.seen) if (s.lastSeenAt < now - RUNNER_STALE_MS) this.seen.delete(id);
    // A stored `last_seen_at` trails the real one by up to `RUNNER_STORE_EVERY_MS`: keep the rows of runners still fresh.
    this.sql.exec("DELETE FROM runners WHERE last_seen_at < ?", now - RUNNER_STALE_MS - RUNNER_STORE_EVERY_MS);
  }
}
