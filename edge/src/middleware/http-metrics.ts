/**
 * Request metrics (`codeforge_http_requests_total`, `codeforge_http_request_duration_seconds`)
 * recorded without a round trip: each request adds its samples to the isolate's buffer, and
 * the buffer is flushed to a `Metrics` shard (a random one each time) in `waitUntil`, after the response,
 * every few seconds or every N requests (see `metrics/metrics-buffer.ts`).
 * @module
 */
import { createMiddleware } from "hono/factory";
import { HTTP_DURATION_BUCKETS_SECONDS } from "#api/metrics.js";
import { edgeConfig, type Env } from "../env.js";
import { waitUntilOf } from "../http/wait-until.js";
import { logFor } from "../log.js";
import { MetricsBuffer } from "../metrics/metrics-buffer.js";
import { metricsShardFor } from "../metrics/metrics-object.js";
import { counterSample, type Sample } from "../metrics/samples.js";
import { methodLabel, routeLabel } from "./route-label.js";

export interface HttpMetricsOptions {
  /** The isolate's buffer; one per isolate unless a test hands in its own. */
  buffer?: MetricsBuffer;
  /** Where a flush goes; a random `Metrics` shard unless a test says otherwise. */
  sink?: (env: Env) => (samples: Sample[]) => Promise<unknown>;
  now?: () => number;
}

let isolateBuffer: MetricsBuffer | null = null;

/** The isolate's buffer, made on first use with the configured flush settings. */
export function isolateMetricsBuffer(env: Env): MetricsBuffer {
  if (!isolateBuffer) {
    let settings = { flushIntervalMs: 5_000, flushAfterRequests: 200 };
    try {
      settings = edgeConfig(env).metrics;
    } catch {
      // An invalid configuration is reported by the routes (and /ready); metrics keep the defaults.
    }
    isolateBuffer = new MetricsBuffer({ flushIntervalMs: settings.flushIntervalMs, flushAfterRecords: settings.flushAfterRequests });
  }
  return isolateBuffer;
}

const defaultSink = (env: Env) => (samples: Sample[]) => metricsShardFor(env).add(samples);

/** Flushes the isolate's buffer now (what `/metrics` does first, so a scrape sees its own isolate). */
export async function flushIsolateMetrics(env: Env, options: HttpMetricsOptions = {}): Promise<void> {
  const buffer = options.buffer ?? isolateMetricsBuffer(env);
  await buffer.flush(async (s) => void (await (options.sink ?? defaultSink)(env)(s)), (options.now ?? Date.now)());
}

function requestMetricsOn(env: Env): boolean {
  try {
    return edgeConfig(env).metrics.requestMetrics;
  } catch {
    return true; // an invalid configuration is reported elsewhere; keep counting
  }
}

/**
 * @example
 * app.use("*", httpMetrics())
 */
export function httpMetrics(options: HttpMetricsOptions = {}) {
  const now = options.now ?? Date.now;
  return createMiddleware<{ Bindings: Env }>(async (c, next) => {
    if (!requestMetricsOn(c.env)) return next();
    const started = now();
    await next();
    const buffer = options.buffer ?? isolateMetricsBuffer(c.env);
    const method = methodLabel(c.req.method);
    const path = routeLabel(c);
    const seconds = (now() - started) / 1_000;
    buffer.record(
      [counterSample("codeforge_http_requests_total", { method, path, status: String(c.res.status) })],
      [{ name: "codeforge_http_request_duration_seconds", labels: { method, path }, value: seconds, buckets: HTTP_DURATION_BUCKETS_SECONDS }],
    );
    const delayMs = buffer.planFlush(now());
    const waitUntil = waitUntilOf(c);
    // Without an execution context (a test calling `app.request`) the samples wait for the next scrape.
    if (delayMs === null || !waitUntil) return;
    const env = c.env;
    const flush = async () => {
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      try {
        await flushIsolateMetrics(env, { ...options, buffer, now });
      } catch (err) {
        // The samples stay in the buffer for the next flush.
        logFor(env).warn("metrics flush failed; kept for the next flush", { error: String(err) });
      }
    };
    waitUntil(flush());
  });
}
