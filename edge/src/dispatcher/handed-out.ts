/**
 * The tasks a pool's Dispatcher handed to a runner and has not yet heard the end of: the
 * `codeforge_tasks_in_progress` gauge, read at scrape time with no task object involved.
 *
 * A task is marked when it is handed out and cleared when it is queued again, taken off the
 * queue, or its object says it stopped running (`releaseSlot`, sent on every end of a leased
 * or running task). Like a key slot, a mark also expires once the attempt it stands for can no
 * longer be running, so a lost release makes the gauge high for a while, never forever.
 * @module
 */
import type { Sql } from "../sql/migrations.js";

export function markHandedOut(sql: Sql, taskId: string, expiresAt: number): void {
  sql.exec("INSERT OR REPLACE INTO handed_out (task_id, expires_at) VALUES (?, ?)", taskId, expiresAt);
}

export function clearHandedOut(sql: Sql, taskId: string): void {
  sql.exec("DELETE FROM handed_out WHERE task_id = ?", taskId);
}

/** Tasks handed out and not yet ended (marks past their expiry left out). */
export function countHandedOut(sql: Sql, now: number): number {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM handed_out WHERE expires_at > ?", now).one().n;
}

/** Drops marks past their expiry (the Dispatcher's alarm). */
export function pruneHandedOut(sql: Sql, now: number): void {
  sql.exec("DELETE FROM handed_out WHERE expires_at <= ?", now);
}
