/**
 * Webhooks as clients see them: the payload a receiver gets, the delivery records and their
 * attempts, dead letters, and the owner's signing secret.
 *
 * The payload follows the Standard Webhooks shape `{type, timestamp, data}`; `data.task` is the
 * same `Task` view `GET /api/v1/tasks/:id` answers (it never holds secrets), as of the change,
 * so `data.task.iteration` names the iteration (each follow-up's end is its own delivery). Headers and
 * signatures are in `webhook-signature.ts`.
 * @module
 */
import { z } from "zod";
import { DEAD_LETTERS_PAGE_DEFAULT, DEAD_LETTERS_PAGE_MAX } from "./limits.js";
import { Task } from "./task.js";
import { WebhookEventType } from "./webhook-event-types.js";

/** The JSON body of every webhook. */
export const WebhookEvent = z.object({
  type: WebhookEventType,
  /** When the status change happened (ISO 8601), not when this attempt was sent. */
  timestamp: z.string(),
  data: z.object({ task: Task }),
});
export type WebhookEvent = z.infer<typeof WebhookEvent>;

/**
 * `pending`: attempts remain (or one is in flight); `delivered`: a 2xx came back; `failed`:
 * every attempt of the schedule failed — a dead letter; `gone`: the receiver answered 410 and
 * no more attempts are made.
 */
export const DeliveryStatus = z.enum(["pending", "delivered", "failed", "gone"]);
export type DeliveryStatus = z.infer<typeof DeliveryStatus>;

/** What one attempt came to. `interrupted`: the edge restarted while it was in flight. */
export const AttemptOutcome = z.enum(["delivered", "retry", "failed", "gone", "interrupted"]);
export type AttemptOutcome = z.infer<typeof AttemptOutcome>;

export const DeliveryAttempt = z.object({
  /** 1 for the first series; a redelivery starts series n+1. */
  series: z.number().int().positive(),
  /** 1, 2, 3… within the series. */
  attempt: z.number().int().positive(),
  started_at: z.string(),
  /** The receiver's HTTP status; null when none came (timeout, connection refused, DNS). */
  status: z.number().int().nullable(),
  latency_ms: z.number().int().nonnegative().nullable(),
  /** Why it did not count (network error, timeout, non-2xx, redirect); null on success. */
  error: z.string().nullable(),
  /** Up to 1 KiB of what the receiver answered, to debug it. */
  response_excerpt: z.string().nullable(),
  /** Null while the attempt is in flight. */
  outcome: AttemptOutcome.nullable(),
});
export type DeliveryAttempt = z.infer<typeof DeliveryAttempt>;

export const Delivery = z.object({
  /** Also the `webhook-id` header: the same on every attempt and redelivery. */
  id: z.string(),
  task_id: z.string(),
  event_type: WebhookEventType,
  /** The task's iteration whose status change this delivery reports (see `Task.iteration`). */
  iteration: z.number().int().positive(),
  url: z.string(),
  status: DeliveryStatus,
  created_at: z.string(),
  /** The current attempt series (1, or more after redeliveries). */
  series: z.number().int().positive(),
  /** When the next attempt is due; null when none is. */
  next_attempt_at: z.string().nullable(),
  completed_at: z.string().nullable(),
  /** Every attempt of every series, oldest first. */
  attempts: z.array(DeliveryAttempt),
  links: z.object({ redeliver: z.string() }),
});
export type Delivery = z.infer<typeof Delivery>;

/** `GET /api/v1/tasks/:id/deliveries` */
export const DeliveryList = z.object({ deliveries: z.array(Delivery) });
export type DeliveryList = z.infer<typeof DeliveryList>;

/** A delivery that exhausted its retry schedule, as the admin's index lists it. */
export const DeadLetter = z.object({
  delivery_id: z.string(),
  task_id: z.string(),
  owner: z.string(),
  event_type: WebhookEventType,
  url: z.string(),
  /** Attempts made in the series that died. */
  attempts: z.number().int().nonnegative(),
  last_status: z.number().int().nullable(),
  last_error: z.string().nullable(),
  dead_at: z.string(),
  links: z.object({ deliveries: z.string(), redeliver: z.string() }),
});
export type DeadLetter = z.infer<typeof DeadLetter>;

/** `GET /api/v1/dead-letters`: newest first. */
export const DeadLetterList = z.object({
  dead_letters: z.array(DeadLetter),
  /** Pass as `before` for the next page; null on the last page. */
  next_before: z.string().nullable(),
});
export type DeadLetterList = z.infer<typeof DeadLetterList>;

export const DeadLettersQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(DEAD_LETTERS_PAGE_MAX).default(DEAD_LETTERS_PAGE_DEFAULT),
  /** A `next_before` from the previous page. */
  before: z.string().max(200).optional(),
});
export type DeadLettersQuery = z.infer<typeof DeadLettersQuery>;

/** The owner's signing secret: the key receivers verify with. */
export const WebhookSecret = z.object({
  /** `whsec_<base64>`; give it to your receiver (e.g. `new Webhook(secret)` in `standardwebhooks`). */
  secret: z.string(),
  created_at: z.string(),
  /** While a rotation overlaps, deliveries are also signed with the previous secret until then. */
  previous_secret_expires_at: z.string().nullable(),
});
export type WebhookSecret = z.infer<typeof WebhookSecret>;

/** The longest overlap a rotation may ask for: a week covers any sane receiver rollout. */
export const WEBHOOK_SECRET_OVERLAP_MAX_SECONDS = 604_800;

/** `POST /api/v1/webhook-secret/rotate` (the body is optional). */
export const RotateWebhookSecretRequest = z.strictObject({
  /** How long deliveries keep carrying a signature with the old secret too. */
  overlap_seconds: z.number().int().min(0).max(WEBHOOK_SECRET_OVERLAP_MAX_SECONDS).default(86_400),
});
export type RotateWebhookSecretRequest = z.infer<typeof RotateWebhookSecretRequest>;
