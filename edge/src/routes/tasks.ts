/**
 * The public task API: create, list, read, page events, stream (WebSocket or Server-Sent Events),
 * cancel, follow up.
 * Each handler validates, calls one task-object method (or reads the task index's shards; creation
 * and follow-ups go through `task/submit-task.ts`), and answers typed JSON.
 * @module
 */
import { CreateTaskRequest, FollowUpRequest } from "#api/task-request.js";
import { parseTraceparent } from "#api/trace-context.js";
import { createMiddleware } from "hono/factory";
import { ApiError } from "../api-error.js";
import type { Env } from "../env.js";
import type { AuthVariables } from "../middleware/api-key-auth.js";
import { audited, type AuditVariables } from "../middleware/audited.js";
import { requireScope } from "../middleware/require-scope.js";
import { bodyOf, jsonBody } from "../http/json-body.js";
import { openApiRoutes } from "../http/openapi-app.js";
import { listTasks as listFromIndex } from "../task-index/task-index-shards.js";
import { taskStub, unwrap } from "../task-stub.js";
import { submitFollowUp, submitTask, viewerOf } from "../task/submit-task.js";
import { VIEWER_HEADER } from "../task/task-rpc.js";
import { methodNotAllowed } from "./method-not-allowed.js";
import { tagRequest } from "../middleware/request-log.js";
import { TaskIdParams } from "./openapi-parts.js";
import { cancelTask, createTask, followUpTask, getTask, listTaskEvents, listTasks, streamTask } from "./tasks.routes.js";

type TaskEnv = { Bindings: Env; Variables: AuthVariables & AuditVariables };

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** A full stream frees up as watchers leave; a few seconds is a fair first wait. */
const STREAM_FULL_RETRY_AFTER_SECONDS = 5;

/** The request's Idempotency-Key, checked; undefined when none was sent. */
function idempotencyKeyOf(header: string | undefined): string | undefined {
  if (header !== undefined && !IDEMPOTENCY_KEY.test(header)) {
    throw new ApiError("bad_request", "Idempotency-Key must be 1-255 printable ASCII characters", "Idempotency-Key");
  }
  return header;
}

/** How a stream request watches: a WebSocket upgrade, or Server-Sent Events when it accepts them. */
type StreamTransport = "websocket" | "sse";

function transportOf(headers: { upgrade?: string; accept?: string }): StreamTransport | null {
  if (headers.upgrade?.toLowerCase() === "websocket") return "websocket";
  return headers.accept?.toLowerCase().includes("text/event-stream") ? "sse" : null;
}

/** Refuses (426) a request that is neither a WebSocket upgrade nor asks for an event stream, before its query is looked at. */
const streamTransportRequired = createMiddleware(async (c, next) => {
  if (transportOf({ upgrade: c.req.header("upgrade"), accept: c.req.header("accept") }) === null) {
    throw new ApiError(
      "upgrade_required",
      "this endpoint is a WebSocket or an event stream: connect with 'Upgrade: websocket', or send 'Accept: text/event-stream'",
      undefined,
      { Upgrade: "websocket" },
    );
  }
  await next();
});

/** Where an SSE stream resumes: after its `Last-Event-ID` (a seq) when sent, else after `since`. */
function resumeAfter(lastEventId: string | undefined, since: number): number {
  if (lastEventId === undefined) return since;
  const text = lastEventId.trim();
  const seq = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(seq)) {
    throw new ApiError("validation_failed", "Last-Event-ID must be a non-negative integer: the id (seq) of the last event received", "Last-Event-ID");
  }
  return seq;
}

export const taskRoutes = openApiRoutes<TaskEnv>()
  .openapi({ ...createTask, middleware: [audited("task.create"), requireScope("tasks:write"), jsonBody(CreateTaskRequest)] as const }, async (c) => {
    const principal = c.get("principal");
    const { created, task, traceparent } = await submitTask(c.env, principal, bodyOf(c, CreateTaskRequest), {
      idempotencyKey: idempotencyKeyOf(c.req.header("idempotency-key")),
      onId: (id) => tagRequest(c, { task_id: id }),
    });
    tagRequest(c, { trace_id: parseTraceparent(traceparent)?.traceId });
    c.set("auditTarget", task.id);
    c.header("Location", task.links.self);
    if (!created) c.header("Idempotent-Replayed", "true");
    return c.json(task, created ? 201 : 200);
  })
  // The caller's tasks, newest first; an admin's are everyone's unless `owner` narrows them.
  .openapi({ ...listTasks, middleware: [requireScope("tasks:read")] as const }, async (c) => {
    const query = c.req.valid("query");
    const principal = c.get("principal");
    if (query.owner !== undefined && !principal.admin && query.owner !== principal.owner) {
      throw new ApiError("forbidden", "only an admin key may list another key's tasks", "owner");
    }
    const owner = principal.admin ? (query.owner ?? null) : principal.owner;
    // From the task index: a key's own shard, or every shard merged for an admin.
    return c.json(await listFromIndex(c.env, { owner, status: query.status, cursor: query.cursor, limit: query.limit }), 200);
  })
  .openapi({ ...getTask, middleware: [requireScope("tasks:read")] as const }, async (c) => {
    const task = unwrap(await taskStub(c.env, c.req.valid("param").id).view(viewerOf(c.get("principal"))));
    return c.json(task, 200);
  })
  .openapi({ ...listTaskEvents, middleware: [requireScope("tasks:read")] as const }, async (c) => {
    const query = c.req.valid("query");
    const stub = taskStub(c.env, c.req.valid("param").id);
    const page = unwrap(await stub.eventsPage(viewerOf(c.get("principal")), query.since, query.limit));
    // Already JSON text from the object, answered as is: no typed `c.json` (hence the cast).
    return c.body(page, 200, { "Content-Type": "application/json; charset=utf-8" }) as never;
  })
  .openapi({ ...streamTask, middleware: [requireScope("tasks:read"), streamTransportRequired] as const }, async (c) => {
    const query = c.req.valid("query");
    const sse = transportOf({ upgrade: c.req.header("upgrade"), accept: c.req.header("accept") }) === "sse";
    const since = sse ? resumeAfter(c.req.header("last-event-id"), query.since) : query.since;
    const stub = taskStub(c.env, c.req.valid("param").id);
    const headers = new Headers(c.req.raw.headers);
    headers.set(VIEWER_HEADER, JSON.stringify(viewerOf(c.get("principal"))));
    const response = await stub.fetch(new Request(`https://task.internal/stream?since=${since}`, { headers }));
    if (response.status === 404) throw new ApiError("not_found", "task not found");
    if (response.status === 429 || response.status === 503) {
      const code = response.status === 429 ? "rate_limited" : "unavailable";
      throw new ApiError(code, "this task has as many watchers as it accepts; try again later", undefined, {
        "Retry-After": String(STREAM_FULL_RETRY_AFTER_SECONDS),
      });
    }
    // A response from another object has immutable headers; re-wrap the socket or the event
    // stream so the request-id and security-header middleware can still add theirs.
    if (sse) return new Response(response.body, { status: response.status, headers: new Headers(response.headers) }) as never;
    return new Response(null, { status: response.status, webSocket: response.webSocket }) as never;
  })
  .openapi({ ...cancelTask, middleware: [audited("task.cancel", (c) => c.req.param("id")), requireScope("tasks:write")] as const }, async (c) => {
    const task = unwrap(await taskStub(c.env, c.req.valid("param").id).cancel(viewerOf(c.get("principal"))));
    return c.json(task, task.status === "canceled" ? 200 : 202);
  })
  .openapi(
    {
      ...followUpTask,
      middleware: [
        audited("task.follow_up", (c) => c.req.param("id")),
        requireScope("tasks:write"),
        jsonBody(FollowUpRequest, { params: TaskIdParams }),
      ] as const,
    },
    async (c) => {
      const { created, task } = await submitFollowUp(c.env, c.get("principal"), c.req.valid("param").id, bodyOf(c, FollowUpRequest), {
        idempotencyKey: idempotencyKeyOf(c.req.header("idempotency-key")),
      });
      if (!created) c.header("Idempotent-Replayed", "true");
      return c.json(task, created ? 202 : 200);
    },
  )
  // A known path with the wrong method: say which methods it has (405), not "no route" (404).
  .all("/api/v1/tasks", methodNotAllowed("GET, POST"))
  .all("/api/v1/tasks/:id", methodNotAllowed("GET"))
  .all("/api/v1/tasks/:id/events", methodNotAllowed("GET"))
  .all("/api/v1/tasks/:id/stream", methodNotAllowed("GET"))
  .all("/api/v1/tasks/:id/cancel", methodNotAllowed("POST"))
  .all("/api/v1/tasks/:id/instructions", methodNotAllowed("POST"));
