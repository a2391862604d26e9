/**
 * The task object's alarm work for webhooks: make every attempt that is due, record each, and
 * tell the dead-letter index about deliveries that died (or were redelivered).
 *
 * Everything it needs comes in through `DeliveryEngineDeps` (storage, clock, secrets, sender,
 * index), so it runs the same against a test receiver or the real world. Each attempt is
 * begun — recorded, its deadline moved past its time limit — in one synchronous step before
 * anything is awaited, so two alarm runs never send the same attempt and a crash mid-attempt
 * only means it is made again. Failures of the secrets source or the index never spend an
 * attempt: the work is postponed and the alarm comes back for it.
 * @module
 */
import { checkCallbackUrl } from "#api/callback-url.js";
import { newTraceparent } from "#api/trace-context.js";
import type { WebhookConfig } from "../settings/webhook-settings.js";
import type { Sql } from "../sql/migrations.js";
import { judgeAttempt, type AttemptResult } from "./delivery-policy.js";
import {
  beginAttempt,
  deadLetterOpDone,
  dueDeadLetterOps,
  dueDeliveries,
  finishAttempt,
  lastAttempt,
  loadTraceparent,
  postponeDeadLetterOp,
  postponeDue,
  saveTraceparent,
  type DeliveryRecord,
} from "./delivery-store.js";
import type { DeadLetterEntry } from "./dead-letter-store.js";
import type { WebhookRequest } from "./webhook-sender.js";
import { createLogger, type Logger } from "../log.js";

/** Past an attempt's own time limit, this much longer before the edge assumes it was lost. */
export const ATTEMPT_LEASE_MARGIN_MS = 30_000;

/** When the secrets source or the dead-letter index cannot be reached, try again this soon. */
export const DEPENDENCY_RETRY_MS = 30_000;

/** Where dead letters are reported; the global index in production. */
export interface DeadLetterSink {
  add(entry: DeadLetterEntry): Promise<void>;
  remove(deliveryId: string): Promise<void>;
}

export interface DeliveryEngineDeps {
  sql: Sql;
  taskId: string;
  owner: string;
  config: WebhookConfig;
  /** The owner's signing secrets: current first, previous during a rotation's overlap. */
  signingSecrets: () => Promise<string[]>;
  send: (request: WebhookRequest) => Promise<AttemptResult>;
  deadLetters: DeadLetterSink;
  now?: () => number;
  random?: () => number;
  /** The task's logger; a default JSON logger when absent. */
  log?: Logger;
  /** Told each attempt's outcome (delivered, retry, failed, gone), for metrics. */
  onOutcome?: (outcome: string) => void;
}

const fallbackLog = createLogger({ level: "info", format: "json", sampleRatio: 1 });

/** Makes every due attempt and reports dead-letter changes; returns the attempts made. */
export async function runDeliveries(deps: DeliveryEngineDeps): Promise<number> {
  const attempts = await attemptDue(deps);
  await syncDeadLetters(deps);
  return attempts;
}

async function attemptDue(deps: DeliveryEngineDeps): Promise<number> {
  const now = deps.now ?? Date.now;
  if (dueDeliveries(deps.sql, now()).length === 0) return 0;
  let secrets: string[];
  try {
    secrets = await deps.signingSecrets();
  } catch (err) {
    const at = now();
    postponeDue(deps.sql, at, at + DEPENDENCY_RETRY_MS);
    (deps.log ?? fallbackLog).warn("webhook secrets unavailable; attempts postponed", { task_id: deps.taskId, error: String(err) });
    return 0;
  }
  // Re-read after the await: this turn decides and begins every due attempt without pausing.
  const started = now();
  let traceparent = loadTraceparent(deps.sql);
  if (traceparent === null) saveTraceparent(deps.sql, (traceparent = newTraceparent()));
  const begun = dueDeliveries(deps.sql, started).map((d) => ({
    delivery: d,
    attempt: beginAttempt(deps.sql, d, started, started + deps.config.attemptTimeoutMs + ATTEMPT_LEASE_MARGIN_MS),
  }));
  await Promise.all(begun.map(({ delivery, attempt }) => attemptOne(deps, delivery, attempt, secrets, traceparent!)));
  return begun.length;
}

async function attemptOne(deps: DeliveryEngineDeps, d: DeliveryRecord, attempt: number, secrets: string[], traceparent: string): Promise<void> {
  const now = deps.now ?? Date.now;
  // The operator's policy may have changed since the task was accepted: check again.
  const allowed = checkCallbackUrl(d.url, { allowLocal: deps.config.allowLocal });
  let result: AttemptResult;
  if (!allowed.ok) {
    result = { status: null, latencyMs: null, error: `not sent: ${allowed.reason}`, retryAfterMs: null, responseExcerpt: null, refused: true };
  } else {
    try {
      // `traceparent` is the task's: the sender's caller gives the attempt a span of its own in it.
      result = await deps.send({ url: d.url, body: d.body, id: d.id, secrets, traceparent, timeoutMs: deps.config.attemptTimeoutMs });
    } catch (err) {
      // The sender reports failures as results; this is a bug, recorded like any failed attempt.
      result = { status: null, latencyMs: null, error: `internal error sending: ${String(err).slice(0, 200)}`, retryAfterMs: null, responseExcerpt: null };
    }
  }
  const finished = now();
  const verdict = judgeAttempt(result, {
    attemptNumber: attempt,
    schedule: deps.config.retryScheduleMs,
    jitter: deps.config.jitter,
    now: finished,
    random: deps.random ?? Math.random,
  });
  finishAttempt(deps.sql, { id: d.id, series: d.series, attempt, result, verdict, now: finished });
  deps.onOutcome?.(verdict.outcome);
  const level = verdict.outcome === "delivered" ? "info" : "warn";
  (deps.log ?? fallbackLog)[level]("webhook attempt", {
    task_id: deps.taskId,
    delivery_id: d.id,
    event_type: d.eventType,
    attempt,
    series: d.series,
    status: result.status,
    latency_ms: result.latencyMs,
    outcome: verdict.outcome,
    error: result.error,
  });
}

async function syncDeadLetters(deps: DeliveryEngineDeps): Promise<void> {
  const now = deps.now ?? Date.now;
  for (const d of dueDeadLetterOps(deps.sql, now())) {
    const op = d.deadLetterOp!;
    try {
      if (op === "add") {
        const last = lastAttempt(deps.sql, d.id);
        await deps.deadLetters.add({
          deliveryId: d.id,
          taskId: deps.taskId,
          owner: deps.owner,
          eventType: d.eventType,
          url: d.url,
          attempts: d.attemptsInSeries,
          lastStatus: last?.status ?? null,
          lastError: last?.error ?? null,
          deadAt: d.completedAt ?? now(),
        });
      } else {
        await deps.deadLetters.remove(d.id);
      }
      deadLetterOpDone(deps.sql, d.id, op);
    } catch (err) {
      postponeDeadLetterOp(deps.sql, d.id, now() + DEPENDENCY_RETRY_MS);
      (deps.log ?? fallbackLog).warn(`dead-letter ${op} failed; the alarm retries`, { task_id: deps.taskId, delivery_id: d.id, error: String(err) });
    }
  }
}
