/**
 * One log line per request: method, route pattern, status, duration, and the request, task and
 * trace ids (`traceparent` header). The runner API's polls, heartbeats and event batches, and
 * health/readiness/metrics probes, are high-volume: their lines are sampled, except errors.
 *
 * The task id comes from the `:id` route parameter, or from `tagRequest` where a handler learns
 * it later (a task it just created).
 * @module
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { parseTraceparent } from "#api/trace-context.js";
import type { Env } from "../env.js";
import { logFor, type LogFields, type Logger } from "../log.js";
import { routeLabel } from "./route-label.js";

const tags = new WeakMap<Request, LogFields>();

/** Adds ids to the request's log line (and to `requestLogger(c)`'s lines). */
export function tagRequest(c: Context, fields: LogFields): void {
  tags.set(c.req.raw, { ...tags.get(c.req.raw), ...fields });
}

/** Probes and runner traffic: a line each would drown everything else. */
function highVolume(path: string): boolean {
  return path.startsWith("/runner/v1/") || path === "/health" || path === "/ready" || path === "/metrics";
}

/** The ids known about this request so far. */
export function requestFields(c: Context): LogFields {
  const trace = parseTraceparent(c.req.header("traceparent"));
  const id = c.req.param("id");
  return {
    request_id: c.get("requestId") as string | undefined,
    ...(id?.startsWith("tsk_") ? { task_id: id } : {}),
    ...(trace ? { trace_id: trace.traceId } : {}),
    ...tags.get(c.req.raw),
  };
}

/** A logger carrying this request's ids. */
export function requestLogger(c: Context<{ Bindings: Env }>): Logger {
  return logFor(c.env).child(requestFields(c));
}

/**
 * @example
 * app.use("*", requestLog())
 */
export function requestLog(options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now;
  return createMiddleware<{ Bindings: Env }>(async (c, next) => {
    const started = now();
    await next();
    const path = routeLabel(c);
    const status = c.res.status;
    const fields = {
      ...requestFields(c),
      method: c.req.method,
      path,
      status,
      duration_ms: now() - started,
    };
    const log = logFor(c.env);
    const level = status >= 500 ? "error" : "info";
    if (highVolume(path)) log.sampled(level, "request", fields);
    else log[level]("request", fields);
  });
}
