/**
 * The dispatcher's priority queue of task ids, in SQLite.
 *
 * The queue is an index, not the truth: each task object owns its task and re-offers itself
 * while it stays queued, so an entry lost here is restored, and an entry offered twice is
 * refused by the task object. Enqueueing the same task twice keeps one entry (primary key).
 * @module
 */
import type { Migration, Sql } from "../sql/migrations.js";
import { markHandedOut } from "./handed-out.js";
import { holdSlot, KEY_HAS_FREE_SLOT, slotExpiresAt } from "./key-slots.js";

export interface QueueEntry {
  taskId: string;
  priority: number;
  cli: string;
  labels: string[];
  /** The API key that submitted the task. */
  ownerKeyId?: string | null;
  /** That key's `max_concurrent_tasks`; null or absent: no limit. */
  maxConcurrent?: number | null;
  /** The task's attempt timeout: bounds how long its concurrency slot can be held. */
  timeoutMs?: number;
  /** The task's pool (the dispatcher's own), so a pool with queued tasks and no runner is known too. */
  pool: string;
}

/** What a runner can run. */
export interface RunnerOffer {
  runnerId: string;
  clis: string[];
  labels: string[];
}

/** How many queued candidates one take looks at before giving up on label matches. */
const CANDIDATE_SCAN_LIMIT = 500;

export const QUEUE_MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: "queue",
    statements: [
      `CREATE TABLE queue (
        task_id TEXT PRIMARY KEY,
        priority INTEGER NOT NULL,
        cli TEXT NOT NULL,
        labels TEXT NOT NULL,
        enqueued_seq INTEGER NOT NULL
      )`,
      "CREATE INDEX queue_order ON queue (priority DESC, enqueued_seq ASC)",
    ],
  },
  {
    // Id 2 is the runners table (runner-store.ts).
    id: 3,
    name: "per-key concurrency slots and queue admissions",
    statements: [
      "ALTER TABLE queue ADD COLUMN owner_key_id TEXT",
      "ALTER TABLE queue ADD COLUMN max_concurrent INTEGER",
      "ALTER TABLE queue ADD COLUMN timeout_ms INTEGER",
      "CREATE INDEX queue_owner ON queue (owner_key_id)",
      "CREATE TABLE key_slots (task_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, expires_at INTEGER NOT NULL)",
      "CREATE INDEX key_slots_key ON key_slots (key_id, expires_at)",
      "CREATE TABLE admissions (task_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, expires_at INTEGER NOT NULL)",
      "CREATE INDEX admissions_key ON admissions (key_id)",
    ],
  },
  {
    id: 4,
    name: "queue ages and handed-out tasks (metrics)",
    statements: ["ALTER TABLE queue ADD COLUMN enqueued_at INTEGER", "CREATE TABLE handed_out (task_id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)"],
  },
  {
    // An enqueue numbers its entry MAX(enqueued_seq) + 1: one index step instead of a scan of the queue.
    id: 5,
    name: "queue sequence index",
    statements: ["CREATE INDEX queue_seq ON queue (enqueued_seq)"],
  },
];

/** True when `runner` can run `entry`: it has the CLI and every label the task asks for. */
export function canRun(runner: RunnerOffer, entry: Pick<QueueEntry, "cli" | "labels">): boolean {
  return runner.clis.includes(entry.cli) && entry.labels.every((label) => runner.labels.includes(label));
}

/** Queues `entry`; false when it was queued already (a re-offer), which changes nothing. */
export function insertEntry(sql: Sql, entry: QueueEntry, now: number = Date.now()): boolean {
  const inserted = sql.exec(
    `INSERT OR IGNORE INTO queue (task_id, priority, cli, labels, owner_key_id, max_concurrent, timeout_ms, enqueued_at, enqueued_seq)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(enqueued_seq), 0) + 1 FROM queue))
     RETURNING task_id`,
    entry.taskId,
    entry.priority,
    entry.cli,
    JSON.stringify(entry.labels),
    entry.ownerKeyId ?? null,
    entry.maxConcurrent ?? null,
    entry.timeoutMs ?? null,
    now,
  );
  return inserted.toArray().length > 0;
}

export function removeEntry(sql: Sql, taskId: string): void {
  sql.exec("DELETE FROM queue WHERE task_id = ?", taskId);
}

/**
 * Removes and returns the highest-priority, oldest entry `runner` can run whose key has a free
 * concurrency slot, and takes that slot for it.
 */
export function takeEntry(sql: Sql, runner: RunnerOffer, now: number = Date.now()): string | null {
  if (runner.clis.length === 0) return null;
  const placeholders = runner.clis.map(() => "?").join(",");
  const rows = sql.exec<{
    task_id: string;
    cli: string;
    labels: string;
    owner_key_id: string | null;
    max_concurrent: number | null;
    timeout_ms: number | null;
  }>(
    `SELECT task_id, cli, labels, owner_key_id, max_concurrent, timeout_ms FROM queue
     WHERE cli IN (${placeholders}) AND ${KEY_HAS_FREE_SLOT}
     ORDER BY priority DESC, enqueued_seq ASC LIMIT ?`,
    ...runner.clis,
    now,
    CANDIDATE_SCAN_LIMIT,
  );
  for (const row of rows) {
    if (canRun(runner, { cli: row.cli, labels: JSON.parse(row.labels) as string[] })) {
      removeEntry(sql, row.task_id);
      markHandedOut(sql, row.task_id, slotExpiresAt(now, row.timeout_ms ?? 0));
      if (row.max_concurrent !== null && row.owner_key_id !== null) {
        holdSlot(sql, { taskId: row.task_id, keyId: row.owner_key_id, expiresAt: slotExpiresAt(now, row.timeout_ms ?? 0) });
      }
      return row.task_id;
    }
  }
  return null;
}

export function queueDepth(sql: Sql): number {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM queue").one().n;
}

/** When the longest-waiting queued task entered the queue; null when none is queued. */
export function oldestEnqueuedAt(sql: Sql): number | null {
  return sql.exec<{ at: number | null }>("SELECT MIN(enqueued_at) AS at FROM queue").one().at;
}
