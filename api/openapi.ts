/**
 * The parts of the OpenAPI 3.1 document that are not route definitions: the document's head
 * (info, servers, security, tags), the component schemas, the webhook the edge sends, and the
 * two paths that are written by hand — the document itself and its reference page.
 *
 * Every other path is generated from the `createRoute` definitions the edge serves
 * (`edge/src/routes/*.routes.ts`); `edge/src/routes/openapi-document.ts` puts the two together
 * and `npm run openapi` writes the result to `api/openapi.json`. Component schemas are
 * converted from the same zod schemas the edge validates with (`z.toJSONSchema`), never
 * written twice.
 * @module
 */
import { z } from "zod";
import { AuditPage } from "./audit.js";
import { ErrorBody } from "./errors.js";
import { GitHubInstallationLink, GitHubWebhookAnswer, GitHubWebhookPayload, LinkGitHubInstallationRequest } from "./github.js";
import { ApiKey, ApiKeyList, ApiKeyWithSecret, CreateKeyRequest, RotateKeyRequest } from "./keys.js";
import { CreateRunnerCredentialRequest, RunnerCredential } from "./runner-credential.js";
import { CreateSessionRequest, SESSION_COOKIE, Session } from "./session.js";
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
import { Task } from "./task.js";
import { TaskList } from "./task-queries.js";
import { CreateTaskRequest, FollowUpRequest } from "./task-request.js";
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
  CreateRunnerCredentialRequest: { schema: CreateRunnerCredentialRequest, io: "input" },
  RunnerCredential: { schema: RunnerCredential, io: "output" },
  CreateKeyRequest: { schema: CreateKeyRequest, io: "input" },
  RotateKeyRequest: { schema: RotateKeyRequest, io: "input" },
  ApiKey: { schema: ApiKey, io: "output" },
  ApiKeyWithSecret: { schema: ApiKeyWithSecret, io: "output" },
  ApiKeyList: { schema: ApiKeyList, io: "output" },
  AuditPage: { schema: AuditPage, io: "output" },
  CreateSessionRequest: { schema: CreateSessionRequest, io: "input" },
  Session: { schema: Session, io: "output" },
  WebhookEvent: { schema: WebhookEvent, io: "output" },
  Delivery: { schema: Delivery, io: "output" },
  DeliveryList: { schema: DeliveryList, io: "output" },
  DeadLetterList: { schema: DeadLetterList, io: "output" },
  WebhookSecret: { schema: WebhookSecret, io: "output" },
  RotateWebhookSecretRequest: { schema: RotateWebhookSecretRequest, io: "input" },
  GitHubWebhookPayload: { schema: GitHubWebhookPayload, io: "input" },
  GitHubWebhookAnswer: { schema: GitHubWebhookAnswer, io: "output" },
  LinkGitHubInstallationRequest: { schema: LinkGitHubInstallationRequest, io: "input" },
  GitHubInstallationLink: { schema: GitHubInstallationLink, io: "output" },
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

/** The document itself and its reference page: served ahead of authentication, not definitions. */
function documentPaths(): Json {
  return {
    "/api/v1/openapi.json": {
      get: {
        operationId: "openapi",
        summary: "This document",
        tags: ["operations"],
        security: [],
        responses: { "200": { description: "OpenAPI 3.1", content: { "application/json": { schema: { type: "object" } } } } },
      },
    },
    "/api/v1/docs": {
      get: {
        operationId: "docs",
        summary: "Browsable API reference",
        tags: ["operations"],
        security: [],
        responses: {
          "200": { description: "HTML: swagger-ui, with its files from this edge (no CDN)", content: { "text/html": { schema: { type: "string" } } } },
          "304": { description: "Unchanged since the `If-None-Match` ETag" },
        },
      },
    },
    "/api/v1/docs/assets/{file}": {
      get: {
        operationId: "docsAsset",
        summary: "A file of the reference page",
        description:
          "swagger-ui's stylesheet and script, named with swagger-ui's version and cached for a year (`immutable`), and the script that starts it (revalidated). Every answer has an ETag; `If-None-Match` gets a 304.",
        tags: ["operations"],
        security: [],
        parameters: [{ name: "file", in: "path", required: true, description: "A file name the page links to", schema: { type: "string" } }],
        responses: {
          "200": {
            description: "The file",
            content: { "text/css": { schema: { type: "string" } }, "text/javascript": { schema: { type: "string" } } },
          },
          "304": { description: "Unchanged since the `If-None-Match` ETag" },
          "404": { description: "No such file", content: { "application/json": { schema: ref("Error") } } },
        },
      },
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
      description:
        "Run AI coding CLIs on your repositories. Errors are always `{error:{code,message,request_id,field?}}`; every response carries `X-Request-Id`.",
    },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    servers: [{ url: "/", description: "The edge that serves this document" }],
    security: [{ bearer: [] }, { sessionCookie: [] }] as Record<string, string[]>[],
    tags: [
      { name: "tasks", description: "Submit tasks, follow them, follow them up." },
      { name: "webhooks", description: "Signed callbacks (Standard Webhooks); the payload is the `WebhookEvent` schema. See docs/webhooks.md." },
      { name: "admin", description: "Needs a key with the `admin` scope." },
      {
        name: "session",
        description: "Sign-in for the web console: an API key exchanged for a session cookie, which every `/api/v1` route accepts in place of the bearer key.",
      },
      { name: "runner", description: "For runners only: HMAC-signed requests." },
      { name: "operations", description: "Liveness, readiness, metrics and this document; no API key." },
      { name: "github", description: "The GitHub App: GitHub's webhook deliveries, and mapping installations to keys. See docs/github.md." },
    ],
  };
}

/** Webhooks the edge sends (OpenAPI 3.1 `webhooks`): one per task event, all the same shape. */
export const WEBHOOKS = {
  taskEvent: {
    post: {
      operationId: "taskEventWebhook",
      summary: "A task event, POSTed to the task's `callback_url`",
      description:
        "Signed with your webhook secret (Standard Webhooks headers `webhook-id`, `webhook-timestamp`, `webhook-signature`). Any 2xx acknowledges it; anything else is retried on the schedule in docs/webhooks.md.",
      tags: ["webhooks"],
      security: [],
      requestBody: { required: true, content: { "application/json": { schema: ref("WebhookEvent") } } },
      responses: { "2XX": { description: "Received" } },
    },
  },
};

export const SECURITY_SCHEMES = {
  bearer: { type: "http", scheme: "bearer", description: "An API key: `Authorization: Bearer <key>`." },
  sessionCookie: {
    type: "apiKey",
    in: "cookie",
    name: SESSION_COOKIE,
    description:
      "A console session (`POST /api/v1/session`), in place of the bearer key on a request without `Authorization`. Requests other than GET, HEAD and OPTIONS must also send `X-CSRF-Token`.",
  },
  metricsToken: { type: "http", scheme: "bearer", description: "`/metrics` only: the edge's `METRICS_TOKEN` (when set)." },
  runnerSignature: {
    type: "apiKey",
    in: "header",
    name: "X-CodeForge-Signature",
    description: "`v1=<hex HMAC-SHA256>` over timestamp, method, path and body digest (docs/architecture.md).",
  },
  runnerTimestamp: { type: "apiKey", in: "header", name: "X-CodeForge-Timestamp", description: "Unix seconds; refused when more than 5 minutes off." },
  githubSignature: {
    type: "apiKey",
    in: "header",
    name: "X-Hub-Signature-256",
    description: "`sha256=<hex HMAC-SHA256 of the body>` with the App's webhook secret (GitHub signs every delivery).",
  },
};

/** Paths that are not `createRoute` definitions (see the module's comment). */
export function handWrittenPaths(): Json {
  return documentPaths();
}

/** The JSON Schema of one stream event, for clients of the WebSocket and the events page. */
export function buildStreamEventSchema(): Json {
  return { $schema: "https://json-schema.org/draft/2020-12/schema", title: "CodeForge stream event", ...componentSchema(StreamEvent, "output") };
}
