/**
 * The sliding-window log in SQLite, for the `RateLimiter` Durable Object.
 *
 * Handed a narrow `sql` and a `now`, so it can be driven by a test clock. Each decision is a
 * few synchronous statements with no `await` in between, and a Durable Object runs one such
 * turn at a time: that is what makes it atomic. Every row carries its own expiry, so the
 * object's sweep alarm can drop keys nobody asks about again (the analogue of Redis `PEXPIRE`).
 * @module
 */
import type { Migration, Sql } from "../sql/migrations.js";
import { blockingIndex, resultFromWindow, type LimitResult, type Release, type WindowCheck } from "./limiter.js";

export const RATE_LIMIT_MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: "sliding window log",
    statements: [
      "CREATE TABLE hit (id INTEGER PRIMARY KEY, key TEXT NOT NULL, ts INTEGER NOT NULL, expires_at INTEGER NOT NULL)",
      "CREATE INDEX hit_key_ts ON hit (key, ts)",
      "CREATE INDEX hit_expires ON hit (expires_at)",
    ],
  },
  // Each row names the request that spent it, so that request can be taken back (`release`).
  // A row id will not do: SQLite may hand a deleted row's id to the next insert.
  { id: 2, name: "hit entry ids", statements: ["ALTER TABLE hit ADD COLUMN entry TEXT"] },
];

/**
 * Decides one request against several windows (keys already hashed): admitted, and logged in
 * each, only when every window has room, under `entry` (one id for the request in every
 * window). See `Limiter.limitAll`.
 */
export function slidingWindowLimitAll(sql: Sql, now: number, checks: readonly WindowCheck[], entry: string = crypto.randomUUID()): LimitResult[] {
  // Counted in SQLite over the (key, ts) index: a decision never loads a window's rows, however
  // high its limit.
  const windows = checks.map(({ key, options }) => {
    sql.exec("DELETE FROM hit WHERE key = ? AND ts <= ?", key, now - options.windowMs);
    const { count, newest } = sql
      .exec<{ count: number; newest: number | null }>("SELECT COUNT(*) AS count, MAX(ts) AS newest FROM hit WHERE key = ?", key)
      .one();
    return { key, options, count, newest, room: count < options.limit };
  });
  const admitted = windows.every((w) => w.room);
  return windows.map(({ key, options, room, ...window }) => {
    const { limit, windowMs } = options;
    let { count, newest } = window;
    const logged = admitted && (options.cost ?? 1) === 1;
    if (logged) {
      sql.exec("INSERT INTO hit (key, ts, expires_at, entry) VALUES (?, ?, ?, ?)", key, now, now + windowMs, entry);
      count += 1;
      newest = now;
    }
    // The entry whose ageing-out admits the next request: needed only when this window is full.
    const blocking = room
      ? null
      : (sql.exec<{ ts: number }>("SELECT ts FROM hit WHERE key = ? ORDER BY ts, id LIMIT 1 OFFSET ?", key, blockingIndex(count, limit)).toArray()[0]?.ts ??
        null);
    const result = resultFromWindow({ allowed: room, limit, windowMs, now, count, newest, blocking });
    return logged ? { ...result, entry } : result;
  });
}

/** Removes exactly the named entries (keys already hashed); see `Limiter.release`. */
export function releaseEntries(sql: Sql, entries: readonly Release[]): void {
  // Over the (key, ts) index: a key holds at most its limit of rows.
  for (const { key, entry } of entries) sql.exec("DELETE FROM hit WHERE key = ? AND entry = ?", key, entry);
}

/** Deletes rows whose window has passed; returns the earliest expiry left, or null when empty. */
export function sweepExpired(sql: Sql, now: number): number | null {
  sql.exec("DELETE FROM hit WHERE expires_at <= ?", now);
  const row = sql.exec<{ at: number | null }>("SELECT MIN(expires_at) AS at FROM hit").one();
  return row.at ?? null;
}
