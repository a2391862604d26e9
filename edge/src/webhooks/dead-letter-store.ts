/**
 * The edge-wide index of dead letters (deliveries that used up their retry schedule), in the
 * `DeadLetters` object's SQLite. The deliveries themselves stay in their task objects; this is
 * the list an admin reads to find them, newest first.
 *
 * Bounded twice: entries older than `DEAD_LETTER_RETENTION_MS` are dropped, and past
 * `DEAD_LETTERS_MAX` the oldest go. Adding is an upsert and removing an absent entry is a
 * no-op, so a task object may report the same change twice.
 * @module
 */
import type { DeadLetter } from "#api/webhooks.js";
import type { WebhookEventType } from "#api/webhook-event-types.js";
import type { Migration, Sql } from "../sql/migrations.js";
import { deliveryLinks } from "./delivery-store.js";

/** A month is long enough to notice and redeliver; the task's own record keeps the details. */
export const DEAD_LETTER_RETENTION_MS = 30 * 86_400_000;

/** Bounds the table whatever a broken receiver does to thousands of tasks. */
export const DEAD_LETTERS_MAX = 10_000;

export const DEAD_LETTER_MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: "dead letters",
    statements: [
      `CREATE TABLE dead_letters (
        delivery_id TEXT PRIMARY KEY,
        task_id TEXT NOT NULL,
        owner TEXT NOT NULL,
        event_type TEXT NOT NULL,
        url TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        last_status INTEGER,
        last_error TEXT,
        dead_at INTEGER NOT NULL
      )`,
      "CREATE INDEX dead_letters_by_time ON dead_letters (dead_at, delivery_id)",
    ],
  },
];

/** What a task object reports when a delivery dies. */
export interface DeadLetterEntry {
  deliveryId: string;
  taskId: string;
  owner: string;
  eventType: WebhookEventType;
  url: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  deadAt: number;
}

export function addDeadLetter(sql: Sql, e: DeadLetterEntry): void {
  sql.exec(
    `INSERT INTO dead_letters (delivery_id, task_id, owner, event_type, url, attempts, last_status, last_error, dead_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (delivery_id) DO UPDATE SET attempts = excluded.attempts, last_status = excluded.last_status,
       last_error = excluded.last_error, dead_at = excluded.dead_at`,
    e.deliveryId,
    e.taskId,
    e.owner,
    e.eventType,
    e.url,
    e.attempts,
    e.lastStatus,
    e.lastError,
    e.deadAt,
  );
  sql.exec(
    "DELETE FROM dead_letters WHERE delivery_id IN (SELECT delivery_id FROM dead_letters ORDER BY dead_at DESC, delivery_id DESC LIMIT -1 OFFSET ?)",
    DEAD_LETTERS_MAX,
  );
}

export function removeDeadLetter(sql: Sql, deliveryId: string): void {
  sql.exec("DELETE FROM dead_letters WHERE delivery_id = ?", deliveryId);
}

interface DeadLetterRow extends Record<string, SqlStorageValue> {
  delivery_id: string;
  task_id: string;
  owner: string;
  event_type: string;
  url: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  dead_at: number;
}

/**
 * A page of dead letters, newest first, strictly older than the `before` cursor (as returned
 * in `next_before`). Expired entries are dropped first.
 */
export function listDeadLetters(sql: Sql, input: { limit: number; before?: string; now: number }): { entries: DeadLetter[]; nextBefore: string | null } {
  sql.exec("DELETE FROM dead_letters WHERE dead_at < ?", input.now - DEAD_LETTER_RETENTION_MS);
  const cursor = input.before ? decodeCursor(input.before) : null;
  const rows = cursor
    ? sql
        .exec<DeadLetterRow>(
          "SELECT * FROM dead_letters WHERE dead_at < ? OR (dead_at = ? AND delivery_id < ?) ORDER BY dead_at DESC, delivery_id DESC LIMIT ?",
          cursor.deadAt,
          cursor.deadAt,
          cursor.deliveryId,
          input.limit + 1,
        )
        .toArray()
    : sql.exec<DeadLetterRow>("SELECT * FROM dead_letters ORDER BY dead_at DESC, delivery_id DESC LIMIT ?", input.limit + 1).toArray();
  const page = rows.slice(0, input.limit);
  const last = page[page.length - 1];
  return {
    entries: page.map(toView),
    nextBefore: rows.length > input.limit && last ? `${last.dead_at}.${last.delivery_id}` : null,
  };
}

function decodeCursor(text: string): { deadAt: number; deliveryId: string } | null {
  const match = /^(\d{1,15})\.([A-Za-z0-9_]{1,64})$/.exec(text);
  return match ? { deadAt: Number(match[1]), deliveryId: match[2]! } : null;
}

function toView(row: DeadLetterRow): DeadLetter {
  return {
    delivery_id: row.delivery_id,
    task_id: row.task_id,
    owner: row.owner,
    event_type: row.event_type as WebhookEventType,
    url: row.url,
    attempts: row.attempts,
    last_status: row.last_status,
    last_error: row.last_error,
    dead_at: new Date(row.dead_at).toISOString(),
    links: { deliveries: `/api/v1/tasks/${row.task_id}/deliveries`, ...deliveryLinks(row.task_id, row.delivery_id) },
  };
}
