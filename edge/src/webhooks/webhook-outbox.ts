/**
 * Turns a task's status changes into webhook deliveries, in the same write as the change.
 *
 * The task object calls this from the one place it records status changes, before anything
 * is sent: the delivery row and the status it reports are stored together or not at all (an
 * outbox), and the alarm sends it. The body is built and stored once, so every attempt and
 * every redelivery sends, and signs, the very same bytes.
 * @module
 */
import { newMessageId } from "#api/ids.js";
import type { Task } from "#api/task.js";
import { DEFAULT_WEBHOOK_EVENTS, webhookEventFor, type WebhookEventType } from "#api/webhook-event-types.js";
import type { WebhookEvent } from "#api/webhooks.js";
import type { WebhookConfig } from "../settings/webhook-settings.js";
import type { Sql } from "../sql/migrations.js";
import type { StatusChange } from "../task/lifecycle.js";
import type { PublicTaskSpec } from "../task/task-secrets.js";
import { insertDelivery } from "./delivery-store.js";
import { delayBeforeAttempt } from "./retry-schedule.js";
import { createLogger, type Logger } from "../log.js";

const fallbackLog = createLogger({ level: "info", format: "json", sampleRatio: 1 });

/** The events of `changes` this task asked to be told about. */
export function eventsToSend(spec: Pick<PublicTaskSpec, "callback_url" | "callback_events">, changes: readonly StatusChange[]): WebhookEventType[] {
  if (spec.callback_url === undefined) return [];
  const wanted = new Set(spec.callback_events ?? DEFAULT_WEBHOOK_EVENTS);
  return changes.map((c) => webhookEventFor(c.status)).filter((t): t is WebhookEventType => t !== null && wanted.has(t));
}

/** The JSON body of a webhook (Standard Webhooks' `{type, timestamp, data}`). */
export function webhookBody(type: WebhookEventType, task: Task, at: number): string {
  const event: WebhookEvent = { type, timestamp: new Date(at).toISOString(), data: { task } };
  return JSON.stringify(event);
}

/**
 * Stores a delivery for each change the task subscribed to; returns how many. `view` is the
 * task as clients see it after the change (called only when something is to be sent).
 */
export function queueWebhooks(
  sql: Sql,
  input: {
    spec: Pick<PublicTaskSpec, "callback_url" | "callback_events">;
    changes: readonly StatusChange[];
    view: () => Task;
    now: number;
    config: WebhookConfig;
    random?: () => number;
    log?: Logger;
  },
): number {
  const types = eventsToSend(input.spec, input.changes);
  if (types.length === 0) return 0;
  const task = input.view();
  let queued = 0;
  for (const type of types) {
    const delay = delayBeforeAttempt(input.config.retryScheduleMs, 1, input.config.jitter, input.random ?? Math.random) ?? 0;
    const stored = insertDelivery(sql, {
      id: newMessageId(input.now),
      eventType: type,
      iteration: task.iteration,
      url: input.spec.callback_url!,
      body: webhookBody(type, task, input.now),
      now: input.now,
      firstAttemptAt: input.now + delay,
    });
    if (stored) queued++;
    else (input.log ?? fallbackLog).warn("webhook not queued: the task has too many deliveries", { task_id: task.id, event_type: type });
  }
  return queued;
}
