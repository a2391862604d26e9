/**
 * The edge's request metrics and its `/metrics` endpoint: whether requests are recorded, how
 * often each isolate flushes them to a `Metrics` shard, and the token `/metrics` asks for.
 * @module
 */
import { z } from "zod";
import { booleanSetting, numberSetting } from "#api/settings.js";
import { type ConfigOf, settingsSlice } from "./settings-slice.js";

export const MetricsSettings = settingsSlice({
  /** False stops recording request metrics (benchmarks compare with and without; keep it on). */
  requestMetrics: ["METRICS_ENABLED", booleanSetting(true)],
  /** Bearer token `/metrics` asks for; null (unset or blank): `/metrics` is open (keep it off the public internet then). */
  token: [
    "METRICS_TOKEN",
    z.preprocess(
      (text) => (text === "" ? undefined : text),
      z
        .string()
        .min(16, "METRICS_TOKEN must be at least 16 characters")
        .optional()
        .transform((token) => token ?? null),
    ),
  ],
  /** Longest an isolate keeps request metrics before flushing them to a `Metrics` shard. */
  flushIntervalMs: ["METRICS_FLUSH_SECONDS", numberSetting(z.number().min(0.1).max(25).default(5)).transform((s) => Math.round(s * 1_000))],
  /**
   * Longest a pool's gauges and runners in the `PoolRegistry` (what `/metrics` and the runners
   * list read) lag its Dispatcher: it pushes a change at most this often.
   */
  poolSnapshotIntervalMs: ["POOL_SNAPSHOT_SECONDS", numberSetting(z.number().min(0.05).max(300).default(10)).transform((s) => Math.round(s * 1_000))],
  /** Requests after which an isolate flushes before the interval is over. */
  flushAfterRequests: ["METRICS_FLUSH_REQUESTS", numberSetting(z.number().int().min(1).max(100_000).default(200))],
});
export type MetricsConfig = ConfigOf<typeof MetricsSettings>;
