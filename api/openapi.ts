/**
 * The parts of the OpenAPI 3.1 document that are not route definitions: the document's head
 * (info, servers, security, tags), the component schemas, and the paths outside the public
 * API's `createRoute` definitions — the runner API (HMAC-signed, its bodies read by the
 * signature check), health, readiness, `/metrics` and the document itself.
 *
 * The public API's paths are generated from the routes the edge serves
 * (`edge/src/routes/*.routes.ts`); `edge/src/openapi-document.ts` puts the two together and
 * `npm run openapi` writes the result to `api/openapi.json`. Component schemas are converted
 * from the same zod schemas the edge validates with (`z.toJSONSchema`), never written twice.
 * @module
 */
import { z } from "zod";
import { AuditPage } from "./audit.js";
import { ErrorBody } from "./errors.js";
import { METRIC_FAMILIES } from "./metrics.js";
import { TASK_ID_PATTERN } from "./ids.js";
import { ApiKey, ApiKeyList, ApiKeyWithSecret, CreateKeyRequest, RotateKeyRequest } from "./keys.js";
import {
  Completion,
  CompletionAck,
  EventBatch,
  EventBatchAck,
  Heartbeat,
  HeartbeatAck,
  Lease,
  LeaseRequest,
  Release,
  ReleaseAck,
  SessionUpload,
  SessionUploadAck,
  RunnerList,
} from "./runner-protocol.js";
import { EventsPage, StreamEvent } from "./stream-events.js";
import { CreateTaskRequest, FollowUpRequest, Task, TaskList } from "./task.js";
import { DeadLetterList, Delivery, DeliveryList, RotateWebhookSecretRequest, WebhookEvent, WebhookSecret } from "./webhooks.js";


export { EXAMPLE_TASK, EXAMPLE_TASK_REQUEST } from "./openapi-examples.js";

type Json = Record<string, unknown>;

/** Component schemas: request bodies as clients write them (`input`), responses as sent. */
export const COMPONENTS = {
  CreateTaskRequest: { schema: CreateTaskRequest, io: "input" },
  Task: { schema: Task, io: "output" },
  FollowUpRequest: { schema: FollowUpRequest, io: "input" },
  TaskList: { schema: TaskList, io: "output" },
  EventsPage: { schema: EventsPage, io: "output" },
  StreamEvent: { schema: StreamEvent, io: "output" },
  Error: { schema: ErrorBody, io: "output" },
  LeaseRequest: { schema: LeaseRequest, io: "input" },
  Lease: { schema: Lease, io: "output" },
  Heartbeat: { schema: Heartbeat, io: "input" },
  HeartbeatAck: { schema: HeartbeatAck, io: "output" },
  EventBatch: { schema: EventBatch, io: "input" },
  EventBatchAck: { schema: EventBatchAck, io: "output" },
  Completion: { schema: Completion, io: "input" },
  CompletionAck: { schema: CompletionAck, io: "output" },
  Release: { schema: Release, io: "input" },
  ReleaseAck: { schema: ReleaseAck, io: "output" },
  SessionUpload: { schema: SessionUpload, io: "input" },
  SessionUploadAck: { schema: SessionUploadAck, io: "output" },
  RunnerList: { schema: RunnerList, io: "output" },
  CreateKeyRequest: { schema: CreateKeyRequest, io: "input" },
  RotateKeyRequest: { schema: RotateKeyRequest, io: "input" },
  ApiKey: { schema: ApiKey, io: "output" },
  ApiKeyWithSecret: { schema: ApiKeyWithSecret, io: "output" },
  ApiKeyList: { schema: ApiKeyList, io: "output" },
  AuditPage: { schema: AuditPage, io: "output" },
  WebhookEvent: { schema: WebhookEvent, io: "output" },
  Delivery: { schema: Delivery, io: "output" },
  DeliveryList: { schema: DeliveryList, io: "output" },
  DeadLetterList: { schema: DeadLetterList, io: "output" },
  WebhookSecret: { schema: WebhookSecret, io: "output" },
  RotateWebhookSecretRequest: { schema: RotateWebhookSecretRequest, io: "input" },
} satisfies Record<string, { schema: z.ZodType; io: "input" | "output" }>;

/** The name of a component schema, for a `$ref` to it. */
export type ComponentName = keyof typeof COMPONENTS;

/** A component as a JSON Schema without its own `$schema` line (the document sets the dialect). */
export function componentSchema(schema: z.ZodType, io: "input" | "output"): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Json;
  return rest;
}


/** Every component schema, by name. */
export function componentSchemas(): Json {
  return Object.fromEntries(Object.entries(COMPONENTS).map(([name, c]) => [name, componentSchema(c.schema, c.io)]));
}

const ref = (name: ComponentName) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: ComponentName) => ({ content: { "application/json": { schema: ref(name) } } });
const errorResponse = (description: string) => ({ description, ...json("Error") });
const TASK_ID = { name: "id", in: "path", required: true, schema: { type: "string", pattern: TASK_ID_PATTERN.source } };

function runnerPaths(): Json {
  const op = (operationId: string, summary: string, body: ComponentName, ok: ComponentName, extra: Json = {}) => ({
    post: {
      operationId,
      summary,
      tags: ["runner"],
      security: [{ runnerSignature: [], runnerTimestamp: [] }],
      ...(operationId === "lease" ? {} : { parameters: [TASK_ID] }),
      requestBody: { required: true, ...json(body) },
      responses: {
        "200": { description: "OK", ...json(ok) },
        ...extra,
        "400": errorResponse("`invalid_json`: the body is malformed, not UTF-8, or gives a key twice in one object; `validation_failed`: a field fails the schema (`field` names it)."),
        "401": errorResponse("Unsigned, badly signed, or a timestamp more than 5 minutes off."),
        "409": errorResponse("`lease_stale`: the lease is no longer current; `sequence_gap`: a batch is missing."),
        "413": errorResponse("The body is over 1 MiB (3 MiB for a session upload); it is read no further than that, before the signature is checked."),
        "415": errorResponse("The `Content-Type` names a charset other than UTF-8, or the body has a `Content-Encoding`."),
      },
    },
  });
  return {
    "/runner/v1/lease": op("lease", "Long-poll for a task this runner can run", "LeaseRequest", "Lease", { "204": { description: "No task came within wait_ms" } }),
    "/runner/v1/tasks/{id}/heartbeat": op("heartbeat", "Renew the lease; learn about cancel", "Heartbeat", "HeartbeatAck"),
    "/runner/v1/tasks/{id}/events": op("postEvents", "Append a batch of output (idempotent per batch_seq)", "EventBatch", "EventBatchAck"),
    "/runner/v1/tasks/{id}/complete": op("complete", "Report the attempt's outcome", "Completion", "CompletionAck"),
    "/runner/v1/tasks/{id}/session": op("saveSession", "Keep the CLI's session for the next iteration to resume (before complete; body up to 3 MiB)", "SessionUpload", "SessionUploadAck"),
    "/runner/v1/tasks/{id}/release": op("release", "Hand the task back (shutdown): re-queued at once, the attempt not counted", "Release", "ReleaseAck"),
  };
}

/** The families `/metrics` serves, from the catalogue the edge renders them from. */
function metricsDescription(): string {
  const rows = METRIC_FAMILIES.map((f) => {
    const labels = f.labels.length ? `{${f.labels.join(",")}}` : "";
    const buckets = "buckets" in f ? ` Buckets (s): ${f.buckets.join(", ")}.` : "";
    return `| \`${f.name}${labels}\` | ${f.type} | ${f.help}${buckets} |`;
  });
  return [
    "Outside API-key auth and rate limits. When the edge has `METRICS_TOKEN`, send it as `Authorization: Bearer <token>`.",
    "Counters and histograms are global (every isolate flushes into one Durable Object every few seconds); gauges are read from the pools' Dispatchers at scrape time.",
    "`path` labels are route patterns (`/api/v1/tasks/:id`); a request no route matched is `unmatched`. See docs/operations.md.",
    "",
    "| Family | Type | Meaning |",
    "| --- | --- | --- |",
    ...rows,
  ].join("\n");
}

const METRICS_EXAMPLE = [
  "# HELP codeforge_tasks_total Tasks that ended, by final status (succeeded, failed, timed_out, canceled).",
  "# TYPE codeforge_tasks_total counter",
  'codeforge_tasks_total{status="succeeded"} 42',
  "# TYPE codeforge_pool_queue_depth gauge",
  'codeforge_pool_queue_depth{pool="default"} 3',
  "",
].join("\n");

function healthPaths(): Json {
  const status = { type: "object", properties: { status: { type: "string" } } };
  return {
    "/health": { get: { operationId: "health", summary: "Liveness", tags: ["operations"], security: [], responses: { "200": { description: "Alive", content: { "application/json": { schema: status } } } } } },
    "/ready": {
      get: {
        operationId: "ready",
        summary: "Readiness",
        tags: ["operations"],
        description: "Checks the configuration, the rate-limit backend (a zero-cost check through Upstash Redis or the RateLimiter objects, 2 s budget) and the Durable Objects requests need (pool registry, a Dispatcher, the Metrics object). `/health` is liveness only.",
        security: [],
        responses: {
          "200": { description: "Ready", content: { "application/json": { schema: status } } },
          "503": { description: "Not ready; `failing` names each failing check, e.g. `rate-limit backend (Upstash Redis): no answer within 2000 ms`", content: { "application/json": { schema: { type: "object", properties: { status: { type: "string" }, failing: { type: "array", items: { type: "string" } } } } } } },
        },
      },
    },
    "/metrics": {
      get: {
        operationId: "metrics",
        summary: "Prometheus metrics",
        tags: ["operations"],
        description: metricsDescription(),
        security: [{ metricsToken: [] }, {}],
        responses: {
          "200": {
            description: "The Prometheus text exposition format (version 0.0.4).",
            content: { "text/plain; version=0.0.4; charset=utf-8": { schema: { type: "string" }, example: METRICS_EXAMPLE } },
          },
          "401": errorResponse("`METRICS_TOKEN` is set and the request did not carry it as `Authorization: Bearer <token>`."),
        },
      },
    },
    "/api/v1/openapi.json": {
      get: { operationId: "openapi", summary: "This document", tags: ["operations"], security: [], responses: { "200": { description: "OpenAPI 3.1", content: { "application/json": { schema: { type: "object" } } } } } },
    },
    "/api/v1/docs": {
      get: { operationId: "docs", summary: "Browsable API reference", tags: ["operations"], security: [], responses: { "200": { description: "HTML", content: { "text/html": { schema: { type: "string" } } } } } },
    },
  };
}

/** The document's head: everything but its paths, webhooks and components. */
export function documentHead(version: string) {
  return {
    openapi: "3.1.0",
    info: {
      title: "CodeForge API",
      version,
      description: "Run AI coding CLIs on your repositories. Errors are always `{error:{code,message,request_id,field?}}`; every response carries `X-Request-Id`.",
    },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    servers: [{ url: "/", description: "The edge that serves this document" }],
    security: [{ bearer: [] }],
    tags: [
      { name: "tasks", description: "Submit tasks, follow them, follow them up." },
      { name: "webhooks", description: "Signed callbacks (Standard Webhooks); the payload is the `WebhookEvent` schema. See docs/webhooks.md." },
      { name: "admin", description: "Needs a key with the `admin` scope." },
      { name: "runner", description: "For runners only: HMAC-signed requests." },
      { name: "operations", description: "Liveness, readiness, metrics and this document; no API key." },
    ],
  };
}

/** Webhooks the edge sends (OpenAPI 3.1 `webhooks`): one per task event, all the same shape. */
export const WEBHOOKS = {
  taskEvent: {
    post: {
      operationId: "taskEventWebhook",
      summary: "A task event, POSTed to the task's `callback_url`",
      description: "Signed with your webhook secret (Standard Webhooks headers `webhook-id`, `webhook-timestamp`, `webhook-signature`). Any 2xx acknowledges it; anything else is retried on the schedule in docs/webhooks.md.",
      tags: ["webhooks"],
      security: [],
      requestBody: { required: true, ...json("WebhookEvent") },
      responses: { "2XX": { description: "Received" } },
    },
  },
};

export const SECURITY_SCHEMES = {
  bearer: { type: "http", scheme: "bearer", description: "An API key: `Authorization: Bearer <key>`." },
  metricsToken: { type: "http", scheme: "bearer", description: "`/metrics` only: the edge's `METRICS_TOKEN` (when set)." },
  runnerSignature: { type: "apiKey", in: "header", name: "X-CodeForge-Signature", description: "`v1=<hex HMAC-SHA256>` over timestamp, method, path and body digest (docs/architecture.md)." },
  runnerTimestamp: { type: "apiKey", in: "header", name: "X-CodeForge-Timestamp", description: "Unix seconds; refused when more than 5 minutes off." },
};

/** Paths that are not `createRoute` definitions (see the module's comment). */
export function handWrittenPaths(): Json {
  return { ...runnerPaths(), ...healthPaths() };
}

/** The JSON Schema of one stream event, for clients of the WebSocket and the events page. */
export function buildStreamEventSchema(): Json {
  return { $schema: "https://json-schema.org/draft/2020-12/schema", title: "CodeForge stream event", ...componentSchema(StreamEvent, "output") };
}
