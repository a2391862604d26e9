/**
 * A task object's metric reports waiting to reach the `Metrics` object: a task's end (status,
 * duration) and its webhook attempts. They are written to the object's own storage in the same
 * turn as the change they count, then sent in the background; an entry is deleted only once
 * the `Metrics` object took it, and the object's alarm sends what is left. So a count is never
 * only in memory, and the client's request never waits for it.
 *
 * Entries live in the synchronous KV storage of the (SQLite-backed) object: no table and no
 * schema migration of the task's own.
 * @module
 */
import type { Sample } from "./samples.js";

const PREFIX = "metrics-outbox:";

/** A task reports a handful of times (its end, its webhook attempts); far more means a stuck sink. */
export const OUTBOX_ENTRIES_MAX = 200;

/** When a send failed, the alarm tries again this much later. */
export const OUTBOX_RETRY_MS = 60_000;

type Kv = Pick<SyncKvStorage, "get" | "put" | "delete" | "list">;

/** Stores samples to send; the oldest entries beyond `OUTBOX_ENTRIES_MAX` are dropped. */
export function stageSamples(kv: Kv, samples: Sample[], now: number): void {
  if (samples.length === 0) return;
  kv.put(`${PREFIX}${String(now).padStart(15, "0")}:${crypto.randomUUID().slice(0, 8)}`, samples);
  const keys = [...kv.list({ prefix: PREFIX })].map(([key]) => key);
  for (const key of keys.slice(0, Math.max(0, keys.length - OUTBOX_ENTRIES_MAX))) kv.delete(key);
}

export function hasStagedSamples(kv: Kv): boolean {
  return [...kv.list({ prefix: PREFIX, limit: 1 })].length > 0;
}

/** Sends every staged entry in one call; deletes exactly those it sent once `send` resolved. */
export async function sendStagedSamples(kv: Kv, send: (samples: Sample[]) => Promise<unknown>): Promise<number> {
  const entries = [...kv.list<Sample[]>({ prefix: PREFIX })];
  if (entries.length === 0) return 0;
  await send(entries.flatMap(([, samples]) => samples));
  for (const [key] of entries) kv.delete(key);
  return entries.length;
}
