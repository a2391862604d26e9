/**
 * Route definitions of the operational endpoints outside the API: liveness, readiness and the
 * Prometheus metrics. Served by `health.ts` and `metrics.ts`; no API key, no rate limit.
 * @module
 */
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { METRIC_FAMILIES } from "#api/metrics.js";
import { errorResponse } from "./openapi-parts.js";

const tags = ["operations"];
const Status = z.object({ status: z.string() });

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

export const health = createRoute({
  method: "get",
  path: "/health",
  operationId: "health",
  tags,
  summary: "Liveness",
  security: [],
  responses: { 200: { description: "Alive", content: { "application/json": { schema: Status } } } },
});

export const ready = createRoute({
  method: "get",
  path: "/ready",
  operationId: "ready",
  tags,
  summary: "Readiness",
  description:
    "Checks the configuration, the rate-limit backend (a zero-cost check through Upstash Redis or the RateLimiter objects, 2 s budget) and the Durable Objects requests need (pool registry, a Dispatcher, a Metrics shard). `/health` is liveness only.",
  security: [],
  responses: {
    200: { description: "Ready", content: { "application/json": { schema: Status } } },
    503: {
      description: "Not ready; `failing` names each failing check, e.g. `rate-limit backend (Upstash Redis): no answer within 2000 ms`",
      content: { "application/json": { schema: Status.extend({ failing: z.array(z.string()) }) } },
    },
  },
});

export const metrics = createRoute({
  method: "get",
  path: "/metrics",
  operationId: "metrics",
  tags,
  summary: "Prometheus metrics",
  description: metricsDescription(),
  security: [{ metricsToken: [] }, {}],
  responses: {
    200: {
      description: "The Prometheus text exposition format (version 0.0.4).",
      content: { "text/plain; version=0.0.4; charset=utf-8": { schema: z.string(), example: METRICS_EXAMPLE } },
    },
    401: errorResponse("`METRICS_TOKEN` is set and the request did not carry it as `Authorization: Bearer <token>`."),
  },
});
