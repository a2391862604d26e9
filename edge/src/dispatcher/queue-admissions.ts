/**
 * Admission to a pool's queue for keys with `max_queued_tasks`: the check that a key has room
 * and the reservation of that room happen in one turn of the dispatcher, so parallel
 * submissions cannot all see the same free place.
 *
 * The Worker asks before it creates the task; the reservation becomes the task's queue entry
 * when the task object enqueues itself, or lapses after `ADMISSION_TTL_MS` if creation failed.
 * @module
 */
import type { Sql } from "../sql/migrations.js";

/** A task object enqueues itself within milliseconds of creation; a minute is generous. */
export const ADMISSION_TTL_MS = 60_000;

/** Reserves a queue place for `taskId`; false when the key's queue is full. */
export function admit(sql: Sql, input: { taskId: string; keyId: string; maxQueued: number; now: number }): boolean {
  const already = sql
    .exec(
      "SELECT 1 FROM queue WHERE task_id = ? UNION ALL SELECT 1 FROM admissions WHERE task_id = ? AND expires_at > ?",
      input.taskId,
      input.taskId,
      input.now,
    )
    .toArray().length;
  if (already > 0) return true;
  const { n } = sql
    .exec<{ n: number }>(
      "SELECT (SELECT COUNT(*) FROM queue WHERE owner_key_id = ?) + (SELECT COUNT(*) FROM admissions WHERE key_id = ? AND expires_at > ?) AS n",
      input.keyId,
      input.keyId,
      input.now,
    )
    .one();
  if (n >= input.maxQueued) return false;
  // An expired reservation of the same task may still be there until the alarm prunes it.
  sql.exec("INSERT OR REPLACE INTO admissions (task_id, key_id, expires_at) VALUES (?, ?, ?)", input.taskId, input.keyId, input.now + ADMISSION_TTL_MS);
  return true;
}

/** Drops lapsed reservations (the Dispatcher's alarm; every read leaves them out meanwhile). */
export function pruneAdmissions(sql: Sql, now: number): void {
  sql.exec("DELETE FROM admissions WHERE expires_at <= ?", now);
}

/** The task reached the queue (or a runner), or will never: its reservation is used up. */
export function settleAdmission(sql: Sql, taskId: string): void {
  sql.exec("DELETE FROM admissions WHERE task_id = ?", taskId);
}
