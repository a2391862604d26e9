/**
 * The webhook events a task can send, and which status change each one reports.
 *
 * A task with a `callback_url` is told how it ended by default (the four terminal events);
 * it may list `callback_events` to hear more (or less) of its life. Kept apart from the
 * payload shapes in `webhooks.ts` because the task request itself refers to these names.
 * @module
 */
import { z } from "zod";

export const WebhookEventType = z.enum(["task.queued", "task.leased", "task.started", "task.succeeded", "task.failed", "task.timed_out", "task.canceled"]);
export type WebhookEventType = z.infer<typeof WebhookEventType>;

/** What a task with a `callback_url` and no `callback_events` is sent: how it ended. */
export const DEFAULT_WEBHOOK_EVENTS: readonly WebhookEventType[] = ["task.succeeded", "task.failed", "task.timed_out", "task.canceled"];

const EVENT_FOR_STATUS: Record<string, WebhookEventType> = {
  queued: "task.queued",
  leased: "task.leased",
  running: "task.started",
  succeeded: "task.succeeded",
  failed: "task.failed",
  timed_out: "task.timed_out",
  canceled: "task.canceled",
};

/** The event that reports a change to `status` (a re-queue after a lost runner is `task.queued` again). */
export function webhookEventFor(status: string): WebhookEventType | null {
  return EVENT_FOR_STATUS[status] ?? null;
}
