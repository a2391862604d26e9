/**
 * `GET /metrics`: the edge's Prometheus exposition. Outside API-key auth and rate limits (a
 * scraper is not an API client); when `METRICS_TOKEN` is set it asks for that bearer token.
 *
 * Counters and histograms are the sum of the `Metrics` shards (after this isolate flushes its
 * own pending samples, so a scrape always includes the requests this isolate served);
 * gauges are read from the pools' Dispatchers now.
 * @module
 */
import { sha256Hex } from "#api/signing.js";
import { ApiError } from "../api-error.js";
import { edgeConfig, type Env } from "../env.js";
import { openApiRoutes } from "../http/openapi-app.js";
import { logFor } from "../log.js";
import { flushIsolateMetrics } from "../middleware/http-metrics.js";
import { readMetricShards } from "../metrics/metrics-object.js";
import { poolGaugeSamples } from "../metrics/pool-gauges.js";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "../metrics/prometheus-text.js";
import { metrics } from "./operations.routes.js";

/** True when `Authorization` is `Bearer <token>`, compared in constant time (as digests). */
async function bearerMatches(header: string | undefined, token: string): Promise<boolean> {
  const presented = /^Bearer\s+(.+)$/i.exec(header ?? "")?.[1]?.trim() ?? "";
  const encoder = new TextEncoder();
  const [a, b] = await Promise.all([sha256Hex(presented), sha256Hex(token)]);
  return crypto.subtle.timingSafeEqual(encoder.encode(a), encoder.encode(b));
}

// Defined in `operations.routes.ts`.
export const metricsRoutes = openApiRoutes<{ Bindings: Env }>().openapi(metrics, async (c) => {
  const { token } = edgeConfig(c.env).metrics;
  if (token !== null && !(await bearerMatches(c.req.header("authorization"), token))) {
    throw new ApiError("unauthorized", "/metrics needs the metrics token: Authorization: Bearer <METRICS_TOKEN>", undefined, {
      "WWW-Authenticate": 'Bearer realm="metrics"',
    });
  }
  try {
    await flushIsolateMetrics(c.env);
  } catch (err) {
    // The scrape still answers with what the shards have; this isolate's samples go next time.
    logFor(c.env).warn("metrics flush before scrape failed", { error: String(err) });
  }
  const [stored, gauges] = await Promise.all([readMetricShards(c.env), poolGaugeSamples(c.env)]);
  return c.body(renderPrometheus([...stored, ...gauges]), 200, { "content-type": PROMETHEUS_CONTENT_TYPE, "cache-control": "no-store" });
});
