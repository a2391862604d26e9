/**
 * A task's webhook deliveries and their attempts, in the task object's SQLite. Handed `sql`,
 * nothing else; every function is synchronous, so a caller's read-decide-write happens in one
 * turn of the object.
 *
 * A delivery is `pending` while attempts remain; its `next_attempt_at` is when the alarm must
 * next look at it. An attempt that starts writes its row and moves `next_attempt_at` past its
 * own time limit first, so the edge dying mid-attempt leaves a deadline that retries it (the
 * unfinished row is then marked `interrupted`). `dead_letter_op` is a change the global
 * dead-letter index has yet to hear (`add` when a delivery dies, `remove` when it is
 * redelivered); the alarm retries it until the index acknowledges.
 * @module
 */
import type { AttemptOutcome, Delivery, DeliveryAttempt, DeliveryStatus } from "#api/webhooks.js";
import type { WebhookEventType } from "#api/webhook-event-types.js";
import type { Sql } from "../sql/migrations.js";
import type { AttemptResult, AttemptVerdict } from "./delivery-policy.js";

/** Status changes are bounded per task, but a runner releasing a task forever is not: cap the rows. */
export const DELIVERIES_PER_TASK_MAX = 100;

/** Redeliveries of one delivery; with the schedule length this bounds its attempt rows. */
export const SERIES_MAX = 20;

export interface DeliveryRecord {
  id: string;
  eventType: WebhookEventType;
  /** The task's iteration whose status change this delivery reports. */
  iteration: number;
  url: string;
  body: string;
  createdAt: number;
  status: DeliveryStatus;
  series: number;
  attemptsInSeries: number;
  nextAttemptAt: number | null;
  completedAt: number | null;
  deadLetterOp: "add" | "remove" | null;
  deadLetterDueAt: number | null;
}

interface DeliveryRow extends Record<string, SqlStorageValue> {
  id: string;
  event_type: string;
  iteration: number;
  url: string;
  body: string;
  created_at: number;
  status: string;
  series: number;
  attempts_in_series: number;
  next_attempt_at: number | null;
  completed_at: number | null;
  dead_letter_op: string | null;
  dead_letter_due_at: number | null;
}

interface AttemptRow extends Record<string, SqlStorageValue> {
  delivery_id: string;
  series: number;
  attempt: number;
  started_at: number;
  status: number | null;
  latency_ms: number | null;
  error: string | null;
  response_excerpt: string | null;
  outcome: string | null;
}

const decode = (row: DeliveryRow): DeliveryRecord => ({
  id: row.id,
  eventType: row.event_type as WebhookEventType,
  iteration: row.iteration,
  url: row.url,
  body: row.body,
  createdAt: row.created_at,
  status: row.status as DeliveryStatus,
  series: row.series,
  attemptsInSeries: row.attempts_in_series,
  nextAttemptAt: row.next_attempt_at,
  completedAt: row.completed_at,
  deadLetterOp: row.dead_letter_op as DeliveryRecord["deadLetterOp"],
  deadLetterDueAt: row.dead_letter_due_at,
});

/** Adds a delivery whose first attempt is due at `firstAttemptAt`; false when the task has too many. */
export function insertDelivery(
  sql: Sql,
  d: { id: string; eventType: WebhookEventType; iteration: number; url: string; body: string; now: number; firstAttemptAt: number },
): boolean {
  const count = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM deliveries").one().n;
  if (count >= DELIVERIES_PER_TASK_MAX) return false;
  sql.exec(
    `INSERT INTO deliveries (id, event_type, iteration, url, body, created_at, status, series, attempts_in_series, next_attempt_at)
     VALUES (?, ?, ?, ?, ?, ?, 'pending', 1, 0, ?)`,
    d.id,
    d.eventType,
    d.iteration,
    d.url,
    d.body,
    d.now,
    d.firstAttemptAt,
  );
  return true;
}

export function loadDelivery(sql: Sql, id: string): DeliveryRecord | null {
  const row = sql.exec<DeliveryRow>("SELECT * FROM deliveries WHERE id = ?", id).toArray()[0];
  return row ? decode(row) : null;
}

/** Pending deliveries whose attempt is due at `now`, oldest first. */
export function dueDeliveries(sql: Sql, now: number): DeliveryRecord[] {
  return sql.exec<DeliveryRow>("SELECT * FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY created_at, id", now).toArray().map(decode);
}

/** The earliest moment delivery work is due (an attempt, or a dead-letter report), or null. */
export function nextDeliveryDeadline(sql: Sql): number | null {
  const row = sql
    .exec<{ at: number | null }>(
      `SELECT MIN(at) AS at FROM (
         SELECT next_attempt_at AS at FROM deliveries WHERE status = 'pending'
         UNION ALL SELECT dead_letter_due_at FROM deliveries WHERE dead_letter_op IS NOT NULL)`,
    )
    .one();
  return row.at ?? null;
}

/** Pushes due deliveries back without spending an attempt (the edge could not sign them now). */
export function postponeDue(sql: Sql, now: number, until: number): void {
  sql.exec("UPDATE deliveries SET next_attempt_at = ? WHERE status = 'pending' AND next_attempt_at <= ?", until, now);
}

/**
 * Starts the next attempt of a delivery: records it, and holds `next_attempt_at` at
 * `leaseUntil`, so an attempt the edge never finishes is made again then. Returns its number.
 */
export function beginAttempt(sql: Sql, d: DeliveryRecord, now: number, leaseUntil: number): number {
  const attempt = d.attemptsInSeries + 1;
  sql.exec(
    "UPDATE delivery_attempts SET outcome = 'interrupted', error = 'the edge restarted during this attempt' WHERE delivery_id = ? AND outcome IS NULL",
    d.id,
  );
  sql.exec("INSERT INTO delivery_attempts (delivery_id, series, attempt, started_at) VALUES (?, ?, ?, ?)", d.id, d.series, attempt, now);
  sql.exec("UPDATE deliveries SET attempts_in_series = ?, next_attempt_at = ? WHERE id = ?", attempt, leaseUntil, d.id);
  return attempt;
}

/**
 * Records how an attempt went and applies its verdict. An attempt of an older series (the
 * delivery was redelivered meanwhile) only changes the delivery if it delivered.
 * Returns true when the delivery just died (it must be reported as a dead letter).
 */
export function finishAttempt(
  sql: Sql,
  a: { id: string; series: number; attempt: number; result: AttemptResult; verdict: AttemptVerdict; now: number },
): boolean {
  const r = a.result;
  sql.exec(
    `UPDATE delivery_attempts SET status = ?, latency_ms = ?, error = ?, response_excerpt = ?, outcome = ?
     WHERE delivery_id = ? AND series = ? AND attempt = ?`,
    r.status,
    r.latencyMs,
    r.error,
    r.responseExcerpt,
    a.verdict.outcome,
    a.id,
    a.series,
    a.attempt,
  );
  const current = loadDelivery(sql, a.id);
  if (!current) return false;
  if (a.verdict.outcome === "delivered") {
    // Delivered is delivered, whichever series it came from; a dead letter it was is withdrawn.
    const withdraw = current.status === "failed" || current.deadLetterOp === "add";
    sql.exec(
      "UPDATE deliveries SET status = 'delivered', next_attempt_at = NULL, completed_at = ?, dead_letter_op = ?, dead_letter_due_at = ? WHERE id = ?",
      a.now,
      withdraw ? "remove" : current.deadLetterOp,
      withdraw ? a.now : current.deadLetterDueAt,
      a.id,
    );
    return false;
  }
  if (current.series !== a.series || current.status !== "pending") return false;
  switch (a.verdict.outcome) {
    case "retry":
      sql.exec("UPDATE deliveries SET next_attempt_at = ? WHERE id = ?", a.verdict.nextAttemptAt, a.id);
      return false;
    case "gone":
      sql.exec("UPDATE deliveries SET status = 'gone', next_attempt_at = NULL, completed_at = ? WHERE id = ?", a.now, a.id);
      return false;
    case "failed":
      sql.exec(
        "UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, completed_at = ?, dead_letter_op = 'add', dead_letter_due_at = ? WHERE id = ?",
        a.now,
        a.now,
        a.id,
      );
      return true;
  }
}

/**
 * Starts a new attempt series for a delivery, due at `now`, with the same message id. A dead
 * letter it was is withdrawn from the index. False when it was redelivered `SERIES_MAX` times.
 */
export function restartSeries(sql: Sql, id: string, now: number): boolean {
  const d = loadDelivery(sql, id);
  if (!d || d.series >= SERIES_MAX) return false;
  const withdraw = d.status === "failed" || d.deadLetterOp === "add";
  sql.exec(
    `UPDATE deliveries SET status = 'pending', series = series + 1, attempts_in_series = 0, next_attempt_at = ?, completed_at = NULL,
       dead_letter_op = ?, dead_letter_due_at = ? WHERE id = ?`,
    now,
    withdraw ? "remove" : d.deadLetterOp,
    withdraw ? now : d.deadLetterDueAt,
    id,
  );
  return true;
}

/** Deliveries whose dead-letter change is due to be reported. */
export function dueDeadLetterOps(sql: Sql, now: number): DeliveryRecord[] {
  return sql.exec<DeliveryRow>("SELECT * FROM deliveries WHERE dead_letter_op IS NOT NULL AND dead_letter_due_at <= ?", now).toArray().map(decode);
}

/** The index heard `op`; clears it unless a newer change replaced it meanwhile. */
export function deadLetterOpDone(sql: Sql, id: string, op: "add" | "remove"): void {
  sql.exec("UPDATE deliveries SET dead_letter_op = NULL, dead_letter_due_at = NULL WHERE id = ? AND dead_letter_op = ?", id, op);
}

export function postponeDeadLetterOp(sql: Sql, id: string, until: number): void {
  sql.exec("UPDATE deliveries SET dead_letter_due_at = ? WHERE id = ? AND dead_letter_op IS NOT NULL", until, id);
}

/** The last finished attempt of a delivery's current series (for its dead-letter entry). */
export function lastAttempt(sql: Sql, id: string): { status: number | null; error: string | null } | null {
  const row = sql.exec<AttemptRow>("SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY series DESC, attempt DESC LIMIT 1", id).toArray()[0];
  return row ? { status: row.status, error: row.error } : null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** Every delivery of the task with its attempts, as the API shows them, oldest first. */
export function listDeliveries(sql: Sql, taskId: string): Delivery[] {
  const attempts = new Map<string, DeliveryAttempt[]>();
  for (const row of sql.exec<AttemptRow>("SELECT * FROM delivery_attempts ORDER BY delivery_id, series, attempt")) {
    const list = attempts.get(row.delivery_id) ?? [];
    list.push({
      series: row.series,
      attempt: row.attempt,
      started_at: iso(row.started_at)!,
      status: row.status,
      latency_ms: row.latency_ms,
      error: row.error,
      response_excerpt: row.response_excerpt,
      outcome: row.outcome as AttemptOutcome | null,
    });
    attempts.set(row.delivery_id, list);
  }
  return sql
    .exec<DeliveryRow>("SELECT * FROM deliveries ORDER BY created_at, id")
    .toArray()
    .map(decode)
    .map((d) => toDeliveryView(d, taskId, attempts.get(d.id) ?? []));
}

export function deliveryLinks(taskId: string, deliveryId: string): Delivery["links"] {
  return { redeliver: `/api/v1/tasks/${taskId}/deliveries/${deliveryId}/redeliver` };
}

function toDeliveryView(d: DeliveryRecord, taskId: string, attempts: DeliveryAttempt[]): Delivery {
  return {
    id: d.id,
    task_id: taskId,
    event_type: d.eventType,
    iteration: d.iteration,
    url: d.url,
    status: d.status,
    created_at: iso(d.createdAt)!,
    series: d.series,
    next_attempt_at: d.status === "pending" ? iso(d.nextAttemptAt) : null,
    completed_at: iso(d.completedAt),
    attempts,
    links: deliveryLinks(taskId, d.id),
  };
}

/** The task's trace (`traceparent`), or null when none was stored yet. */
export function loadTraceparent(sql: Sql): string | null {
  return sql.exec<{ traceparent: string | null }>("SELECT traceparent FROM task LIMIT 1").toArray()[0]?.traceparent ?? null;
}

export function saveTraceparent(sql: Sql, traceparent: string): void {
  sql.exec("UPDATE task SET traceparent = ?", traceparent);
}
