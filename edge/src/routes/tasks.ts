/**
 * The public task API: create, list, read, page events, stream, cancel, follow up.
 * Each handler validates, calls one task-object method (or reads the task index's shards), and
 * answers typed JSON.
 * @module
 */
import { idempotentTaskId, newTaskId } from "#api/ids.js";
import { checkCallbackUrl } from "#api/callback-url.js";
import { checkRepoUrl } from "#api/repo-url.js";
import { sha256Hex } from "#api/signing.js";
import { CreateTaskRequest, FollowUpRequest } from "#api/task-request.js";
import { parseTraceparent } from "#api/trace-context.js";
import { createMiddleware } from "hono/factory";
import { ApiError } from "../api-error.js";
import { canonicalJson } from "../canonical-json.js";
import { ownerDispatcher } from "../dispatcher/shards.js";
import { edgeConfig, type Env } from "../env.js";
import type { AuthVariables, Principal } from "../middleware/api-key-auth.js";
import { audited, type AuditVariables } from "../middleware/audited.js";
import { requireScope } from "../middleware/require-scope.js";
import { bodyOf, jsonBody } from "../http/json-body.js";
import { openApiRoutes } from "../http/openapi-app.js";
import { checkSpendLimit } from "../spend/spend-limit.js";
import { listTasks as listFromIndex } from "../task-index/task-index-shards.js";
import { taskStub, unwrap } from "../task-stub.js";
import { secretBox } from "../task/secret-box.js";
import { splitSecrets, type TaskSecrets } from "../task/task-secrets.js";
import { newTaskTraceparent } from "../tracing/task-span.js";
import { VIEWER_HEADER, type Viewer } from "../task/task-rpc.js";
import { methodNotAllowed } from "./method-not-allowed.js";
import { tagRequest } from "../middleware/request-log.js";
import { TaskIdParams } from "./openapi-parts.js";
import { cancelTask, createTask, followUpTask, getTask, listTaskEvents, listTasks, streamTask } from "./tasks.routes.js";

type TaskEnv = { Bindings: Env; Variables: AuthVariables & AuditVariables };

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** A full stream frees up as watchers leave; a few seconds is a fair first wait. */
const STREAM_FULL_RETRY_AFTER_SECONDS = 5;

const viewerOf = (p: Principal): Viewer => ({ owner: p.owner, admin: p.admin });

/** The request's Idempotency-Key, checked; undefined when none was sent. */
function idempotencyKeyOf(header: string | undefined): string | undefined {
  if (header !== undefined && !IDEMPOTENCY_KEY.test(header)) {
    throw new ApiError("bad_request", "Idempotency-Key must be 1-255 printable ASCII characters", "Idempotency-Key");
  }
  return header;
}

/**
 * A fingerprint of a request for its Idempotency-Key: keyed (HMAC) when it carries secrets, so
 * the stored hash gives no token away; a different token makes a different request.
 */
async function requestFingerprint(request: unknown, secrets: TaskSecrets | null, taskSecretsKey: string | null): Promise<string> {
  const canonical = canonicalJson(request);
  return secrets ? `hmac:${await (await secretBox(taskSecretsKey!)).fingerprint(canonical)}` : await sha256Hex(canonical);
}

/**
 * The create request as its Idempotency-Key fingerprint covers it. Fields added since
 * fingerprints were first stored are left out while they hold their default (`push: false`,
 * `autonomy: "full"`), so a retry keeps the fingerprint it had before they existed; any other
 * value, and `egress_allow` whenever it is given (an empty list allows no host), is part of it.
 */
function fingerprinted(request: CreateTaskRequest): Partial<CreateTaskRequest> {
  const { push, autonomy, ...rest } = request;
  return { ...rest, ...(push ? { push } : {}), ...(autonomy === "full" ? {} : { autonomy }) };
}

/** Refuses secrets this edge cannot seal (it has no TASK_SECRETS_KEY). */
function requireSealable(secrets: TaskSecrets | null, taskSecretsKey: string | null): void {
  if (secrets && taskSecretsKey === null) {
    const field = secrets.access_token !== null ? "access_token" : "env";
    throw new ApiError("validation_failed", `this edge cannot accept ${field}: its operator has not set TASK_SECRETS_KEY`, field);
  }
}

/** Refuses (426) a request that is not a WebSocket upgrade, before its query is looked at. */
const upgradeRequired = createMiddleware(async (c, next) => {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError("upgrade_required", "this endpoint is a WebSocket: connect with 'Upgrade: websocket'", undefined, { Upgrade: "websocket" });
  }
  await next();
});

export const taskRoutes = openApiRoutes<TaskEnv>()
  .openapi({ ...createTask, middleware: [audited("task.create"), requireScope("tasks:write"), jsonBody(CreateTaskRequest)] as const }, async (c) => {
    const request = bodyOf(c, CreateTaskRequest);
    const { spec, secrets } = splitSecrets(request);
    const { taskSecretsKey } = edgeConfig(c.env);
    // Secrets are only ever stored sealed: without a key to seal them, refuse them.
    requireSealable(secrets, taskSecretsKey);
    const repo = checkRepoUrl(spec.repo.url, { allowFile: edgeConfig(c.env).localMode, allowSsh: true });
    if (!repo.ok) throw new ApiError("validation_failed", repo.reason, "repo.url");
    // A push needs write access: a token, or a local repository that needs none.
    if (spec.push && !secrets?.access_token && repo.scheme !== "file") {
      throw new ApiError(
        "validation_failed",
        "push: true needs an access_token that may write to the repository (only file:// repositories, accepted in local mode, can be pushed to without one)",
        "access_token",
      );
    }
    if (spec.callback_url !== undefined) {
      const callback = checkCallbackUrl(spec.callback_url, { allowLocal: edgeConfig(c.env).webhooks.allowLocal });
      if (!callback.ok) throw new ApiError("validation_failed", callback.reason, "callback_url");
      spec.callback_url = callback.url;
    }

    const principal = c.get("principal");
    const idempotencyKey = idempotencyKeyOf(c.req.header("idempotency-key"));
    const id = idempotencyKey ? await idempotentTaskId(principal.owner, idempotencyKey) : newTaskId();
    tagRequest(c, { task_id: id });
    const requestHash = idempotencyKey ? await requestFingerprint(fingerprinted(request), secrets, taskSecretsKey) : "";

    const stub = taskStub(c.env, id);
    // Before anything is written: a key past its monthly spend limit submits nothing. A retry
    // of a task this key already made is answered as before, limit reached or not.
    const spendRefused = await checkSpendLimit(c.env, principal, Date.now());
    if (spendRefused && !(idempotencyKey && (await stub.view(viewerOf(principal))).ok)) throw new ApiError(spendRefused.code, spendRefused.message);
    const maxQueued = principal.limits?.max_queued_tasks;
    if (maxQueued !== undefined) {
      const dispatcher = ownerDispatcher(c.env, edgeConfig(c.env).dispatcherShards, spec.pool, principal.owner);
      const admitted = await dispatcher.admit({ taskId: id, keyId: principal.owner, maxQueued });
      // A retry of a task this key already made is answered as before, full queue or not.
      if (!admitted && !(idempotencyKey && (await stub.view(viewerOf(principal))).ok)) {
        throw new ApiError(
          "rate_limited",
          `this API key already has ${maxQueued} tasks queued in pool '${spec.pool}' (its max_queued_tasks); wait for some to start`,
        );
      }
    }

    const maxConcurrent = principal.limits?.max_concurrent_tasks ?? null;
    // This request's span is the task's root; a client's `traceparent` is only a link on it.
    const traceparent = newTaskTraceparent();
    tagRequest(c, { trace_id: parseTraceparent(traceparent)?.traceId });
    const { created, task } = unwrap(await stub.create({ id, owner: principal.owner, requestHash, spec, secrets, maxConcurrent, traceparent }));
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
  .openapi({ ...streamTask, middleware: [requireScope("tasks:read"), upgradeRequired] as const }, async (c) => {
    const query = c.req.valid("query");
    const stub = taskStub(c.env, c.req.valid("param").id);
    const headers = new Headers(c.req.raw.headers);
    headers.set(VIEWER_HEADER, JSON.stringify(viewerOf(c.get("principal"))));
    const response = await stub.fetch(new Request(`https://task.internal/stream?since=${query.since}`, { headers }));
    if (response.status === 404) throw new ApiError("not_found", "task not found");
    if (response.status === 429 || response.status === 503) {
      const code = response.status === 429 ? "rate_limited" : "unavailable";
      throw new ApiError(code, "this task has as many watchers as it accepts; try again later", undefined, {
        "Retry-After": String(STREAM_FULL_RETRY_AFTER_SECONDS),
      });
    }
    // A response from another object has immutable headers; re-wrap the socket so the
    // request-id and security-header middleware can still add theirs.
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
      const stub = taskStub(c.env, c.req.valid("param").id);
      const request = bodyOf(c, FollowUpRequest);
      const { access_token, env, ...rest } = request;
      const hasEnv = env !== undefined && Object.keys(env).length > 0;
      const secrets: TaskSecrets | null = access_token === undefined && !hasEnv ? null : { access_token: access_token ?? null, env: env ?? {} };
      const { taskSecretsKey } = edgeConfig(c.env);
      requireSealable(secrets, taskSecretsKey);
      const idempotencyKey = idempotencyKeyOf(c.req.header("idempotency-key"));
      const requestHash = idempotencyKey ? await requestFingerprint(request, secrets, taskSecretsKey) : null;
      const { created, task } = unwrap(
        await stub.followUp(viewerOf(c.get("principal")), {
          prompt: rest.prompt,
          model: rest.model,
          timeoutSeconds: rest.timeout_seconds,
          stallTimeoutSeconds: rest.stall_timeout_seconds,
          maxCostUsd: rest.max_cost_usd,
          maxTokens: rest.max_tokens,
          maxTurns: rest.max_turns,
          secrets,
          idempotencyKey: idempotencyKey ?? null,
          requestHash,
          maxQueued: c.get("principal").limits?.max_queued_tasks,
          // Decided by the object after it checked for a retry, which is answered as before.
          spendRefusal: await checkSpendLimit(c.env, c.get("principal"), Date.now()),
        }),
      );
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
