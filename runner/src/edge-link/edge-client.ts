/**
 * The runner's HTTP client for the edge's `/runner/v1` API.
 *
 * Every request is signed with the runner secret (or the pool's runner credential, whose id it
 * then sends in `x-codeforge-credential`) over the exact body bytes sent and the
 * path with query (see `api/signing.ts`), carries its own timeout (longer for the lease long
 * poll), and every answer is parsed with the contract's schemas, so a mismatch between edge
 * and runner shows up as a clear `EdgeError` here instead of a confusing failure later.
 * Reports about a task (heartbeat, events, session, complete, release) are each a span in the task's
 * trace and carry its `traceparent` header (see `tracing.ts`); the lease poll belongs to no task.
 * @module
 */
import {
  type Completion,
  CompletionAck,
  CREDENTIAL_HEADER,
  ErrorBody,
  type EventBatch,
  EventBatchAck,
  type Heartbeat,
  HeartbeatAck,
  Lease,
  type LeaseRequest,
  type Release,
  RUNNER_API_PREFIX,
  type SessionUpload,
  SessionUploadAck,
  signRequest,
} from "#api/index.js";
import type { z } from "zod";
import { EdgeError } from "./edge-error.js";
import { SpanKind } from "@opentelemetry/api";
import { currentTraceparent, withSpan } from "../telemetry/tracing.js";

export interface EdgeClientOptions {
  /** Base URL of the edge, without a trailing slash. */
  edgeUrl: string;
  /** The runner secret, or a runner credential's secret (then with `credentialId`). */
  secret: string;
  /** A runner credential's id, sent in `x-codeforge-credential` (see `api/runner-credential.ts`). */
  credentialId?: string;
  /** Sent as `User-Agent`, e.g. `codeforge-runner/0.1.0`. */
  userAgent?: string;
  /** Timeout of every request but the lease long poll. */
  requestTimeoutMs?: number;
  /** Added to `wait_ms` for the lease request's timeout, for the trip and the edge's own work. */
  leaseTimeoutSlackMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

export interface EdgeClient {
  /** A task to run, or `null` when none came within `wait_ms` (204). */
  lease(request: LeaseRequest, signal?: AbortSignal): Promise<Lease | null>;
  heartbeat(taskId: string, body: Heartbeat, signal?: AbortSignal): Promise<HeartbeatAck>;
  postEvents(taskId: string, batch: EventBatch, signal?: AbortSignal): Promise<EventBatchAck>;
  complete(taskId: string, completion: Completion, signal?: AbortSignal): Promise<CompletionAck>;
  /**
   * Hands a task back without finishing it (graceful shutdown): the edge re-queues it at once
   * and the attempt does not count. Answered with the task's status, as `complete` is.
   */
  release(taskId: string, body: Release, signal?: AbortSignal): Promise<CompletionAck>;
  /** Keeps the CLI's session for the next iteration (before `complete`; see `cli-session.ts`). */
  saveSession(taskId: string, body: SessionUpload, signal?: AbortSignal): Promise<SessionUploadAck>;
}

/**
 * Builds the signed client.
 * @example
 * const client = createEdgeClient({ edgeUrl: config.edge_url, secret: config.runner_secret });
 * const lease = await client.lease({ runner_id: "r1", pool: "default", clis: ["demo"], labels: [], wait_ms: 25_000 });
 */
export function createEdgeClient(options: EdgeClientOptions): EdgeClient {
  const {
    edgeUrl,
    secret,
    userAgent = "codeforge-runner",
    requestTimeoutMs = 15_000,
    leaseTimeoutSlackMs = 10_000,
    fetch: fetchImpl = fetch,
    now = Date.now,
  } = options;

  async function post<T>(path: string, body: unknown, schema: z.ZodType<T>, timeoutMs: number, signal?: AbortSignal): Promise<T | null> {
    const url = new URL(edgeUrl + path);
    const bytes = new TextEncoder().encode(JSON.stringify(body));
    const headers = await signRequest({ secret, method: "POST", pathAndQuery: url.pathname + url.search, body: bytes, now });
    if (options.credentialId) headers[CREDENTIAL_HEADER] = options.credentialId;
    const traceparent = currentTraceparent();
    const timeout = AbortSignal.timeout(timeoutMs);
    const response = await fetchImpl(url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "user-agent": userAgent, ...(traceparent ? { traceparent } : {}) },
      body: bytes,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    if (response.status === 204) return null;
    const text = await response.text();
    if (!response.ok) throw errorFromResponse(response, text);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new EdgeError(`edge answered ${path} with a body that is not JSON`, 0, "bad_response");
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new EdgeError(`edge answered ${path} with an unexpected shape (${issue?.path.join(".")}: ${issue?.message})`, 0, "bad_response");
    }
    return parsed.data;
  }

  const taskPath = (taskId: string, action: string) => `${RUNNER_API_PREFIX}/tasks/${encodeURIComponent(taskId)}/${action}`;

  /** A report about a task: one span in its trace, named after the action. */
  const report = <T>(taskId: string, action: string, body: unknown, schema: z.ZodType<T>, signal?: AbortSignal) =>
    withSpan(
      `report ${action}`,
      async () => required(await post(taskPath(taskId, action), body, schema, requestTimeoutMs, signal)),
      { "codeforge.task_id": taskId },
      SpanKind.CLIENT,
    );

  return {
    lease: (request, signal) => post(`${RUNNER_API_PREFIX}/lease`, request, Lease, request.wait_ms + leaseTimeoutSlackMs, signal),
    heartbeat: (taskId, body, signal) => report(taskId, "heartbeat", body, HeartbeatAck, signal),
    postEvents: (taskId, batch, signal) => report(taskId, "events", batch, EventBatchAck, signal),
    complete: (taskId, completion, signal) => report(taskId, "complete", completion, CompletionAck, signal),
    // The edge answers `{status}` (queued, or canceled when a cancel was pending): the same shape as a completion's ack.
    release: (taskId, body, signal) => report(taskId, "release", body, CompletionAck, signal),
    saveSession: (taskId, body, signal) => report(taskId, "session", body, SessionUploadAck, signal),
  };
}

function required<T>(value: T | null): T {
  if (value === null) throw new EdgeError("edge answered 204 where a body was expected", 0, "bad_response");
  return value;
}

function errorFromResponse(response: Response, text: string): EdgeError {
  const retryAfter = Number(response.headers.get("retry-after"));
  const retryAfterMs = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined;
  let envelope: ErrorBody | undefined;
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(text));
    if (parsed.success) envelope = parsed.data;
  } catch {
    // Not JSON (a proxy's HTML error page, say): the status alone still classifies it.
  }
  const message =
    response.status === 401
      ? `edge refused the runner's signature (check the runner secret or credential, and the clock): ${envelope?.error.message ?? "unauthorized"}`
      : (envelope?.error.message ?? `HTTP ${response.status}`);
  return new EdgeError(message, response.status, envelope?.error.code, retryAfterMs);
}
