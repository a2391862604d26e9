/**
 * Route definitions of the webhook API: a task's deliveries and their replay, the caller's
 * signing secret, and the edge-wide dead letters. Served by `deliveries.ts`,
 * `webhook-secret.ts` and `dead-letters.ts`.
 * @module
 */
import { createRoute } from "@hono/zod-openapi";
import { DeadLettersQuery } from "#api/webhooks.js";
import { BODY_ERRORS, COMMON_ERRORS, DeliveryParams, TaskIdParams, body, errorResponse, json } from "./openapi-parts.js";

const tags = ["webhooks"];
const noStore = { "Cache-Control": { description: "`no-store`: the body is a secret.", schema: { type: "string" as const } } };

export const listTaskDeliveries = createRoute({
  method: "get",
  path: "/api/v1/tasks/{id}/deliveries",
  operationId: "listTaskDeliveries",
  tags,
  summary: "The task's webhook deliveries, each with every attempt",
  request: { params: TaskIdParams },
  responses: { 200: { description: "Deliveries, oldest first", ...json("DeliveryList") }, ...COMMON_ERRORS },
});

export const redeliver = createRoute({
  method: "post",
  path: "/api/v1/tasks/{id}/deliveries/{deliveryId}/redeliver",
  operationId: "redeliver",
  tags,
  summary: "Replay a delivery: a new attempt series, due now, with the same webhook-id and body",
  request: { params: DeliveryParams },
  responses: {
    202: { description: "The delivery, pending again", ...json("Delivery") },
    ...COMMON_ERRORS,
    404: errorResponse("No such task (or not yours), or no such delivery."),
    409: errorResponse("The delivery was redelivered as many times as it may be (20)."),
  },
});

export const getWebhookSecret = createRoute({
  method: "get",
  path: "/api/v1/webhook-secret",
  operationId: "getWebhookSecret",
  tags,
  summary: "Your webhook signing secret (`whsec_…`), made on first use",
  description: "Every webhook of your tasks is signed with it (Standard Webhooks). It is the key your receiver verifies with.",
  responses: {
    200: { description: "The secret", headers: noStore, ...json("WebhookSecret") },
    401: COMMON_ERRORS[401],
    403: COMMON_ERRORS[403],
    405: COMMON_ERRORS[405],
    429: COMMON_ERRORS[429],
  },
});

export const rotateWebhookSecret = createRoute({
  method: "post",
  path: "/api/v1/webhook-secret/rotate",
  operationId: "rotateWebhookSecret",
  tags,
  summary: "Issue a new signing secret; the old one keeps signing for `overlap_seconds` (default 24 h)",
  description:
    "During the overlap every delivery carries two signatures, space-separated in `webhook-signature`; a receiver with either secret accepts. The body is optional.",
  request: { body: body("RotateWebhookSecretRequest", { required: false, example: { overlap_seconds: 86_400 } }) },
  responses: {
    200: { description: "The new secret", headers: noStore, ...json("WebhookSecret") },
    400: COMMON_ERRORS[400],
    401: COMMON_ERRORS[401],
    403: COMMON_ERRORS[403],
    405: COMMON_ERRORS[405],
    429: COMMON_ERRORS[429],
    ...BODY_ERRORS,
  },
});

export const listDeadLetters = createRoute({
  method: "get",
  path: "/api/v1/dead-letters",
  operationId: "listDeadLetters",
  tags,
  summary: "Deliveries that used up their retry schedule, newest first (admin)",
  request: { query: DeadLettersQuery },
  responses: {
    200: { description: "A page of dead letters", ...json("DeadLetterList") },
    400: COMMON_ERRORS[400],
    401: COMMON_ERRORS[401],
    403: errorResponse("The key lacks the admin scope."),
    405: COMMON_ERRORS[405],
    429: COMMON_ERRORS[429],
  },
});
