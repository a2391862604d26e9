/**
 * Per-key concurrency slots: which tasks of a key with `max_concurrent_tasks` the dispatcher
 * has handed out and not yet heard the end of. A task of a key holding that many slots stays
 * in the queue (it is not dropped) until one frees up.
 *
 * A slot is taken when a task is handed to a runner, and freed when the task is queued again
 * (lease lost, handed back), when its object says it stopped running (`releaseSlot`), or when
 * the Worker could not lease it after all. In case a release is ever lost (the object's call
 * failed), every slot also expires on its own once the attempt it stands for can no longer be
 * running: the attempt's timeout plus the edge's grace plus `SLOT_EXPIRY_MARGIN_MS`. So a
 * slot can be freed a little late, but never leaks.
 * @module
 */
import type { Sql } from "../sql/migrations.js";
import { TIMEOUT_GRACE_MS } from "../task/lifecycle.js";

/** Beyond the attempt's own hard deadline: covers a late alarm and the hand-off itself. */
export const SLOT_EXPIRY_MARGIN_MS = 60_000;

/** How long a slot taken at `now` for an attempt of `timeoutMs` can be held at most. */
export function slotExpiresAt(now: number, timeoutMs: number): number {
  return now + timeoutMs + TIMEOUT_GRACE_MS + SLOT_EXPIRY_MARGIN_MS;
}

/** SQL condition (on a `queue` row) that its key has a free slot; bind `now` once. */
export const KEY_HAS_FREE_SLOT = `(max_concurrent IS NULL OR
  (SELECT COUNT(*) FROM key_slots s WHERE s.key_id = queue.owner_key_id AND s.expires_at > ?) < max_concurrent)`;

export function keyAtLimit(sql: Sql, keyId: string, maxConcurrent: number, now: number): boolean {
  const held = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM key_slots WHERE key_id = ? AND expires_at > ?", keyId, now).one().n;
  return held >= maxConcurrent;
}

export function holdSlot(sql: Sql, slot: { taskId: string; keyId: string; expiresAt: number }): void {
  sql.exec("INSERT OR REPLACE INTO key_slots (task_id, key_id, expires_at) VALUES (?, ?, ?)", slot.taskId, slot.keyId, slot.expiresAt);
}

/** Frees the task's slot; true when it held one. */
export function releaseSlot(sql: Sql, taskId: string): boolean {
  return sql.exec("DELETE FROM key_slots WHERE task_id = ? RETURNING task_id", taskId).toArray().length > 0;
}

/** Slots of a key held now. */
export function heldSlots(sql: Sql, keyId: string, now: number): number {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM key_slots WHERE key_id = ? AND expires_at > ?", keyId, now).one().n;
}

/** Drops slots past their expiry. */
export function pruneSlots(sql: Sql, now: number): void {
  sql.exec("DELETE FROM key_slots WHERE expires_at <= ?", now);
}
