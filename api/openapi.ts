/**
 * The OpenAPI 3.1 document of the CodeForge API, built from the same zod schemas the edge
 * validates with and the runner parses with: the schemas are converted (`z.toJSONSchema`),
 * never written twice. `scripts/generate-openapi.ts` writes it to `api/openapi.json`; a test
 * fails when the committed file is stale, and another when a route of the Worker is missing.
 * @module
 */
import { z } from "zod";
import { AuditPage, AuditQuery } from "./audit.js";
import { ErrorBody } from "./errors.js";
import { METRIC_FAMILIES } from "./metrics.js";
import { ApiKey, ApiKeyList, ApiKeyWithSecret, CreateKeyRequest, ListKeysQuery, RotateKeyRequest } from "./keys.js";
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
  RunnerInfo,
  RunnerList,
} from "./runner-protocol.js";
import { EventsPage, StreamEvent } from "./stream-events.js";
import { CreateTaskRequest, EventsQuery, FollowUpRequest, StreamQuery, Task, TaskList, TaskListQuery, TaskSummary } from "./task.js";
import { DeadLetterList, DeadLettersQuery, Delivery, DeliveryList, RotateWebhookSecretRequest, WebhookEvent, WebhookSecret } from "./webhooks.js";

type Json = Record<string, unknown>;

/** Component schemas: request bodies as clients write them (`input`), responses as sent. */
const COMPONENTS: Record<string, { schema: z.ZodType; io: "input" | "output" }> = {
  CreateTaskRequest: { schema: CreateTaskRequest, io: "input" },
  Task: { schema: Task, io: "output" },
  FollowUpRequest: { schema: FollowUpRequest, io: "input" },
  TaskSummary: { schema: TaskSummary, io: "output" },
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
  RunnerInfo: { schema: RunnerInfo, io: "output" },
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
};

/** A component as a JSON Schema without its own `$schema` line (the document sets the dialect). */
export function componentSchema(schema: z.ZodType, io: "input" | "output"): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Json;
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string, example?: unknown) => ({
  content: { "application/json": { schema: ref(name), ...(example === undefined ? {} : { example }) } },
});
const errorResponse = (description: string) => ({ description, ...json("Error") });

const REQUEST_ID = {
  "X-Request-Id": { description: "The request's id: yours if you sent a sane one, else a new one.", schema: { type: "string" } },
};

const TASK_ID = { name: "id", in: "path", required: true, schema: { type: "string", pattern: "^tsk_[0-9a-z]{26}$" } };

function queryParameters(schema: z.ZodType): Json[] {
  const properties = (componentSchema(schema, "input").properties ?? {}) as Record<string, Json>;
  return Object.entries(properties).map(([name, s]) => ({ name, in: "query", required: false, schema: s }));
}

const RATE_LIMIT_HEADERS = {
  "RateLimit-Policy": { description: 'The limits that apply, e.g. `"tasks";q=10;w=60, "requests";q=600;w=60` (IETF draft).', schema: { type: "string" } },
  RateLimit: { description: 'What is left of each limit, e.g. `"tasks";r=3;t=42, "requests";r=597;t=60` (IETF draft).', schema: { type: "string" } },
};

/** How a JSON body is refused before its fields are looked at (every route that takes one). */
const BODY_ERRORS = {
  "413": errorResponse("The body is over 1 MiB (sent chunked, it is read no further than that)."),
  "415": errorResponse("The body is not sent as `application/json`, names a charset other than UTF-8, or has a `Content-Encoding` (the edge decodes none)."),
};

const COMMON_ERRORS = {
  "400": errorResponse("The input failed validation (`field` names the field), or the body is not JSON: malformed, not UTF-8, or a key given twice in one object (`invalid_json`, `field` names the key)."),
  "401": errorResponse("No or invalid API key, or an expired, revoked or rotated-out one."),
  "403": errorResponse("The key lacks the scope this route needs, or is used from outside its allowed addresses."),
  "404": errorResponse("No such task, or not yours."),
  "405": errorResponse("A known path with another method; `Allow` lists the methods."),
  "429": {
    description: "A rate limit was reached, or this client IP is blocked after repeated authentication failures. `Retry-After` says when to try again.",
    headers: { "Retry-After": { schema: { type: "integer" } }, ...RATE_LIMIT_HEADERS },
    ...json("Error"),
  },
};

/** A task request that pushes its change to a branch of its own. */
export const EXAMPLE_TASK_REQUEST = {
  repo: { url: "https://github.com/acme/app.git", ref: "main" },
  prompt: "Fix the failing test in src/date.test.ts",
  cli: "claude",
  timeout_seconds: 900,
  egress_allow: ["registry.example.org"],
  max_cost_usd: 2,
  push: true,
  branch: "codeforge/fix-date-test",
  access_token: "github_pat_11AAAAAAA0example",
};

/** That task once it succeeded: its result, with cost, usage, the pushed commit and its sandbox. */
export const EXAMPLE_TASK = {
  id: "tsk_01jd8k4m2n3p5q6r7s8t9v0w1x",
  status: "succeeded",
  iteration: 1,
  iterations: [
    {
      n: 1,
      prompt: "Fix the failing test in src/date.test.ts",
      model: null,
      status: "succeeded",
      attempt: 1,
      result: {
        exit_code: 0,
        duration_ms: 152_318,
        changed_files: [{ path: "src/date.ts", status: "modified" }],
        changed_files_truncated: false,
        diff_stat: { files_changed: 1, insertions: 2, deletions: 1 },
        patch_truncated: false,
        final_message: "Fixed formatDay: it used getDay (weekday) instead of getDate. The test passes.",
        cost_usd: 0.1842,
        usage: { input_tokens: 1_204, output_tokens: 2_311, cache_read_input_tokens: 48_120, cache_creation_input_tokens: 9_876 },
        push: { branch: "codeforge/fix-date-test", commit_sha: "3f9a2c1e5b7d4f6a8c0e2b4d6f8a0c2e4b6d8f0a" },
        sandbox: "bubblewrap",
        base_commit_sha: "9fceb02d0ae598e95dc970b74767f19372d61af8",
      },
      error: null,
      created_at: "2026-11-23T10:00:00.000Z",
      started_at: "2026-11-23T10:00:01.204Z",
      finished_at: "2026-11-23T10:02:41.512Z",
      first_seq: 1,
    },
  ],
  repo: { url: "https://github.com/acme/app.git", ref: "main" },
  prompt: "Fix the failing test in src/date.test.ts",
  cli: "claude",
  model: null,
  timeout_seconds: 900,
  priority: 5,
  pool: "default",
  labels: [],
  max_attempts: 3,
  stall_timeout_seconds: null,
  autonomy: "full",
  egress_allow: ["registry.example.org"],
  max_cost_usd: 2,
  max_tokens: null,
  max_turns: null,
  has_access_token: true,
  env_names: [],
  metadata: {},
  push: true,
  branch: "codeforge/fix-date-test",
  callback_url: null,
  callback_events: [],
  attempt: 1,
  runner_id: "runner-eu-1",
  cancel_requested: false,
  created_at: "2026-11-23T10:00:00.000Z",
  updated_at: "2026-11-23T10:02:41.512Z",
  started_at: "2026-11-23T10:00:01.204Z",
  finished_at: "2026-11-23T10:02:41.512Z",
  result: {
    exit_code: 0,
    duration_ms: 152_318,
    changed_files: [{ path: "src/date.ts", status: "modified" }],
    changed_files_truncated: false,
    diff_stat: { files_changed: 1, insertions: 2, deletions: 1 },
    patch: "diff --git a/src/date.ts b/src/date.ts\n--- a/src/date.ts\n+++ b/src/date.ts\n@@ -10,3 +10,4 @@\n-  return d.getDay();\n+  // getDate is the day of the month; getDay is the weekday.\n+  return d.getDate();\n",
    patch_truncated: false,
    final_message: "Fixed formatDay: it used getDay (weekday) instead of getDate. The test passes.",
    cost_usd: 0.1842,
    usage: { input_tokens: 1_204, output_tokens: 2_311, cache_read_input_tokens: 48_120, cache_creation_input_tokens: 9_876 },
    push: { branch: "codeforge/fix-date-test", commit_sha: "3f9a2c1e5b7d4f6a8c0e2b4d6f8a0c2e4b6d8f0a" },
    sandbox: "bubblewrap",
    base_commit_sha: "9fceb02d0ae598e95dc970b74767f19372d61af8",
  },
  error: null,
  waiting_reason: null,
  last_seq: 87,
  links: {
    self: "/api/v1/tasks/tsk_01jd8k4m2n3p5q6r7s8t9v0w1x",
    events: "/api/v1/tasks/tsk_01jd8k4m2n3p5q6r7s8t9v0w1x/events",
    stream: "/api/v1/tasks/tsk_01jd8k4m2n3p5q6r7s8t9v0w1x/stream",
    cancel: "/api/v1/tasks/tsk_01jd8k4m2n3p5q6r7s8t9v0w1x/cancel",
    deliveries: "/api/v1/tasks/tsk_01jd8k4m2n3p5q6r7s8t9v0w1x/deliveries",
    instructions: "/api/v1/tasks/tsk_01jd8k4m2n3p5q6r7s8t9v0w1x/instructions",
  },
};

function publicPaths(): Json {
  return {
    "/api/v1/tasks": {
      post: {
        operationId: "createTask",
        summary: "Submit a task",
        description: "Unknown fields are refused. With `Idempotency-Key`, the same key and body return the same task (200, `Idempotent-Replayed: true`); another body with the same key is a 409.",
        parameters: [{ name: "Idempotency-Key", in: "header", required: false, schema: { type: "string", minLength: 1, maxLength: 255 } }],
        requestBody: { required: true, ...json("CreateTaskRequest", EXAMPLE_TASK_REQUEST) },
        responses: {
          "201": { description: "Created", headers: { Location: { schema: { type: "string" } }, ...REQUEST_ID, ...RATE_LIMIT_HEADERS }, ...json("Task") },
          "200": { description: "The task this Idempotency-Key created before", ...json("Task") },
          ...COMMON_ERRORS,
          "402": errorResponse(
            "`spend_limit_reached`: the key's tasks have spent its `monthly_spend_usd` this month (UTC); the message gives the spend, the limit and when the month ends. Nothing was created. A retry (same Idempotency-Key) of a task made before is still answered.",
          ),
          "409": errorResponse("The Idempotency-Key was used with another body."),
          "429": {
            description: "A rate limit was reached, this client IP is blocked after repeated authentication failures, or the key already has `max_queued_tasks` tasks queued in the pool. `Retry-After` (for rate limits) says when to try again.",
            headers: { "Retry-After": { schema: { type: "integer" } }, ...RATE_LIMIT_HEADERS },
            ...json("Error"),
          },
          ...BODY_ERRORS,
          "503": errorResponse("The rate-limit backend is unreachable; task creation fails closed. Retry after `Retry-After`."),
        },
      },
      get: {
        operationId: "listTasks",
        summary: "List your tasks, newest first (an admin's: everyone's)",
        description:
          "Summaries from the task index, which follows each task within moments of a status change; `links.self` has the whole task. Page with `limit` and the `next_cursor` of the previous page; filter with `status`. An admin key lists every key's tasks, or one key's with `owner`; another key may name only itself as `owner` (403 otherwise).",
        parameters: queryParameters(TaskListQuery),
        responses: {
          "200": { description: "A page of tasks", ...json("TaskList") },
          "400": COMMON_ERRORS["400"],
          "401": COMMON_ERRORS["401"],
          "403": errorResponse("The key lacks `tasks:read`, or names another key as `owner` without the admin scope."),
          "429": COMMON_ERRORS["429"],
        },
      },
    },
    "/api/v1/tasks/{id}": {
      get: {
        operationId: "getTask",
        summary: "Read a task: status, timestamps, attempt, runner, result",
        parameters: [TASK_ID],
        responses: { "200": { description: "The task", ...json("Task", EXAMPLE_TASK) }, ...COMMON_ERRORS },
      },
    },
    "/api/v1/tasks/{id}/events": {
      get: {
        operationId: "listTaskEvents",
        summary: "The task's event log, paged",
        parameters: [TASK_ID, ...queryParameters(EventsQuery)],
        responses: { "200": { description: "A page of events after `since`", ...json("EventsPage") }, ...COMMON_ERRORS },
      },
    },
    "/api/v1/tasks/{id}/stream": {
      get: {
        operationId: "streamTask",
        summary: "Watch a task live (WebSocket)",
        description: "Upgrade to a WebSocket. Every message is one `StreamEvent`: first those after `since`, then the live tail. When the task ends the server closes with code 1000. Send `ping` for `pong`.",
        parameters: [TASK_ID, ...queryParameters(StreamQuery)],
        responses: {
          "101": { description: "Switching protocols; messages are StreamEvent JSON texts", content: { "application/json": { schema: ref("StreamEvent") } } },
          "426": errorResponse("Not a WebSocket upgrade."),
          "503": errorResponse("The task has as many watchers as it allows; retry after `Retry-After`."),
          ...COMMON_ERRORS,
        },
      },
    },
    "/api/v1/tasks/{id}/instructions": {
      post: {
        operationId: "followUpTask",
        summary: "Give an ended task a follow-up (its next iteration)",
        description:
          "Starts iteration n+1 of a task that has ended (any of succeeded, failed, timed_out, canceled), queued for any free runner. It starts from what the task's newest result left: the branch it pushed (at the pushed commit), else its patch applied to the commit the task started from; patches stay cumulative against that commit. The task's `status`, `result`, `error`, `attempt`, `prompt` and times then describe the new iteration; `iterations` lists every one, and the log marks the start of each with an `iteration` event. Fields left out keep the previous iteration's values. Secrets were erased when the previous iteration ended: send `access_token` again if it had one, and `env` with at least the names it had. With `Idempotency-Key`, a retry with the same body answers the iteration it started (200, `Idempotent-Replayed: true`); another body under the key is a 409.",
        parameters: [TASK_ID, { name: "Idempotency-Key", in: "header", required: false, schema: { type: "string", minLength: 1, maxLength: 255 } }],
        requestBody: { required: true, ...json("FollowUpRequest", { prompt: "Now add a test for the fix" }) },
        responses: {
          "202": { description: "The task, its new iteration queued", ...json("Task") },
          "200": { description: "The iteration this Idempotency-Key started before", ...json("Task") },
          ...COMMON_ERRORS,
          "402": errorResponse(
            "`spend_limit_reached`: the key's tasks have spent its `monthly_spend_usd` this month (UTC); the task stays as it was. A retry (same Idempotency-Key) of a follow-up accepted before is still answered.",
          ),
          "409": errorResponse(
            "`invalid_state`: the task has not ended, has had as many iterations as a task may (20), or its last patch was cut at the size cap with nothing pushed (submit with `push: true` to build on a branch). `patch_masked`: one of the task's secrets was masked in its last patch and nothing was pushed, so there is nothing true to build on (submit a new task). `idempotency_conflict`: the Idempotency-Key was used with another body.",
          ),
          ...BODY_ERRORS,
          "429": {
            description: "The `tasks` rate limit (a follow-up counts like a submission) or another limit was reached, or the key already has `max_queued_tasks` tasks queued in the task's pool. `Retry-After` (for rate limits) says when to try again.",
            headers: { "Retry-After": { schema: { type: "integer" } }, ...RATE_LIMIT_HEADERS },
            ...json("Error"),
          },
        },
      },
    },
    "/api/v1/runners": {
      get: {
        operationId: "listRunners",
        summary: "Runners seen recently, across pools (admin)",
        description: "Each runner as of its last lease request or heartbeat; runners silent for 2 minutes are pruned.",
        responses: { "200": { description: "The runners", ...json("RunnerList") }, "401": COMMON_ERRORS["401"], "403": errorResponse("The key lacks the admin scope.") },
      },
    },
    "/api/v1/tasks/{id}/cancel": {
      post: {
        operationId: "cancelTask",
        summary: "Cancel a task",
        description: "A queued task ends at once (200). A leased or running task answers 202 with `cancel_requested`; its runner stops the CLI within seconds.",
        parameters: [TASK_ID],
        responses: {
          "200": { description: "Canceled", ...json("Task") },
          "202": { description: "Cancel requested", ...json("Task") },
          ...COMMON_ERRORS,
          "409": errorResponse("The task already ended."),
        },
      },
    },
  };
}

const KEY_ID = { name: "id", in: "path", required: true, schema: { type: "string", pattern: "^key_[0-9a-z]{16}$" } };
const ADMIN_ERRORS = { ...COMMON_ERRORS, "404": errorResponse("No such key.") };

function adminPaths(): Json {
  return {
    "/api/v1/keys": {
      post: {
        operationId: "createKey",
        summary: "Create an API key (admin)",
        description: "The answer carries the key's secret (`key`) — the only time it is shown; only its SHA-256 is stored.",
        tags: ["admin"],
        requestBody: { required: true, ...json("CreateKeyRequest", { name: "ci", scopes: ["tasks:read", "tasks:write"], allowed_cidrs: ["203.0.113.0/24"], limits: { max_concurrent_tasks: 2 } }) },
        responses: { "201": { description: "Created; store `key` now", ...json("ApiKeyWithSecret") }, ...ADMIN_ERRORS, ...BODY_ERRORS },
      },
      get: {
        operationId: "listKeys",
        summary: "List API keys, newest first (admin)",
        tags: ["admin"],
        parameters: queryParameters(ListKeysQuery),
        responses: { "200": { description: "A page of keys", ...json("ApiKeyList") }, ...ADMIN_ERRORS },
      },
    },
    "/api/v1/keys/{id}": {
      get: {
        operationId: "getKey",
        summary: "Read an API key (admin)",
        description: "With `spend_this_month_usd`: what the key's tasks spent this calendar month (UTC) as their runners reported it, and `spend_resets_at`, when that starts again from 0.",
        tags: ["admin"],
        parameters: [KEY_ID],
        responses: { "200": { description: "The key", ...json("ApiKey") }, ...ADMIN_ERRORS },
      },
    },
    "/api/v1/keys/{id}/rotate": {
      post: {
        operationId: "rotateKey",
        summary: "Give a key a new secret (admin)",
        description: "The old secret keeps working for `overlap_seconds` (default 86400; 0 ends it at once). The body may be empty.",
        tags: ["admin"],
        parameters: [KEY_ID],
        requestBody: { required: false, ...json("RotateKeyRequest") },
        responses: { "200": { description: "Rotated; store `key` now", ...json("ApiKeyWithSecret") }, ...ADMIN_ERRORS, ...BODY_ERRORS, "409": errorResponse("The key is revoked, or has too many secrets in overlap.") },
      },
    },
    "/api/v1/keys/{id}/revoke": {
      post: {
        operationId: "revokeKey",
        summary: "Revoke a key (admin); refused everywhere within 5 seconds",
        tags: ["admin"],
        parameters: [KEY_ID],
        responses: { "200": { description: "Revoked", ...json("ApiKey") }, ...ADMIN_ERRORS },
      },
    },
    "/api/v1/audit": {
      get: {
        operationId: "listAudit",
        summary: "The audit log, newest first (admin)",
        tags: ["admin"],
        parameters: queryParameters(AuditQuery),
        responses: { "200": { description: "A page of entries", ...json("AuditPage") }, ...COMMON_ERRORS },
      },
    },
  };
}

const DELIVERY_ID = { name: "deliveryId", in: "path", required: true, schema: { type: "string", pattern: "^msg_[0-9a-z]{26}$" } };

function webhookPaths(): Json {
  const noStore = { "Cache-Control": { description: "`no-store`: the body is a secret.", schema: { type: "string" } } };
  return {
    "/api/v1/tasks/{id}/deliveries": {
      get: {
        operationId: "listTaskDeliveries",
        summary: "The task's webhook deliveries, each with every attempt",
        tags: ["webhooks"],
        parameters: [TASK_ID],
        responses: { "200": { description: "Deliveries, oldest first", ...json("DeliveryList") }, ...COMMON_ERRORS },
      },
    },
    "/api/v1/tasks/{id}/deliveries/{deliveryId}/redeliver": {
      post: {
        operationId: "redeliver",
        summary: "Replay a delivery: a new attempt series, due now, with the same webhook-id and body",
        tags: ["webhooks"],
        parameters: [TASK_ID, DELIVERY_ID],
        responses: {
          "202": { description: "The delivery, pending again", ...json("Delivery") },
          ...COMMON_ERRORS,
          "409": errorResponse("The delivery was redelivered as many times as it may be (20)."),
        },
      },
    },
    "/api/v1/webhook-secret": {
      get: {
        operationId: "getWebhookSecret",
        summary: "Your webhook signing secret (`whsec_…`), made on first use",
        description: "Every webhook of your tasks is signed with it (Standard Webhooks). It is the key your receiver verifies with.",
        tags: ["webhooks"],
        responses: { "200": { description: "The secret", headers: noStore, ...json("WebhookSecret") }, "401": COMMON_ERRORS["401"] },
      },
    },
    "/api/v1/webhook-secret/rotate": {
      post: {
        operationId: "rotateWebhookSecret",
        summary: "Issue a new signing secret; the old one keeps signing for `overlap_seconds` (default 24 h)",
        description: "During the overlap every delivery carries two signatures, space-separated in `webhook-signature`; a receiver with either secret accepts. The body is optional.",
        tags: ["webhooks"],
        requestBody: { required: false, ...json("RotateWebhookSecretRequest", { overlap_seconds: 86_400 }) },
        responses: { "200": { description: "The new secret", headers: noStore, ...json("WebhookSecret") }, "400": COMMON_ERRORS["400"], "401": COMMON_ERRORS["401"], ...BODY_ERRORS },
      },
    },
    "/api/v1/dead-letters": {
      get: {
        operationId: "listDeadLetters",
        summary: "Deliveries that used up their retry schedule, newest first (admin)",
        tags: ["webhooks"],
        parameters: queryParameters(DeadLettersQuery),
        responses: { "200": { description: "A page of dead letters", ...json("DeadLetterList") }, "401": COMMON_ERRORS["401"], "403": errorResponse("The key lacks the admin scope.") },
      },
    },
  };
}

function runnerPaths(): Json {
  const op = (operationId: string, summary: string, body: string, ok: string, extra: Json = {}) => ({
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
    "/health": { get: { operationId: "health", summary: "Liveness", security: [], responses: { "200": { description: "Alive", content: { "application/json": { schema: status } } } } } },
    "/ready": {
      get: {
        operationId: "ready",
        summary: "Readiness",
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
    "/api/v1/openapi.json": { get: { operationId: "openapi", summary: "This document", security: [], responses: { "200": { description: "OpenAPI 3.1" } } } },
    "/api/v1/docs": { get: { operationId: "docs", summary: "Browsable API reference", security: [], responses: { "200": { description: "HTML" } } } },
  };
}

/** The whole document. */
export function buildOpenApiDocument(version: string): Json {
  return {
    openapi: "3.1.0",
    info: {
      title: "CodeForge API",
      version,
      description: "Run AI coding CLIs on your repositories. Errors are always `{error:{code,message,request_id,field?}}`; every response carries `X-Request-Id`.",
    },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    security: [{ bearer: [] }],
    tags: [
      { name: "tasks" },
      { name: "webhooks", description: "Signed callbacks (Standard Webhooks); the payload is the `WebhookEvent` schema. See docs/webhooks.md." },
      { name: "admin", description: "Needs a key with the `admin` scope." },
      { name: "runner", description: "For runners only: HMAC-signed requests." },
    ],
    paths: { ...publicPaths(), ...webhookPaths(), ...adminPaths(), ...runnerPaths(), ...healthPaths() },
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "An API key: `Authorization: Bearer <key>`." },
        metricsToken: { type: "http", scheme: "bearer", description: "`/metrics` only: the edge's `METRICS_TOKEN` (when set)." },
        runnerSignature: { type: "apiKey", in: "header", name: "X-CodeForge-Signature", description: "`v1=<hex HMAC-SHA256>` over timestamp, method, path and body digest (docs/architecture.md)." },
        runnerTimestamp: { type: "apiKey", in: "header", name: "X-CodeForge-Timestamp", description: "Unix seconds; refused when more than 5 minutes off." },
      },
      schemas: Object.fromEntries(Object.entries(COMPONENTS).map(([name, c]) => [name, componentSchema(c.schema, c.io)])),
    },
  };
}

/** The JSON Schema of one stream event, for clients of the WebSocket and the events page. */
export function buildStreamEventSchema(): Json {
  return { $schema: "https://json-schema.org/draft/2020-12/schema", title: "CodeForge stream event", ...componentSchema(StreamEvent, "output") };
}
