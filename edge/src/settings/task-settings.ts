/**
 * How tasks are leased and kept: the lease's lifetime, how often runners renew it, the output
 * stored per task and how long an ended task stays.
 * @module
 */
import { z } from "zod";
import { OUTPUT_MAX_BYTES_DEFAULT } from "#api/limits.js";
import { numberSetting } from "#api/settings.js";
import { type ConfigOf, settingsSlice } from "./settings-slice.js";

const DAY_MS = 86_400_000;

export const TaskSettings = settingsSlice({
  /** A lease lapses this long after its last heartbeat; the task is then re-queued. */
  leaseTtlMs: ["LEASE_TTL_SECONDS", numberSetting(z.number().int().min(5).max(3_600).default(30)).transform((s) => s * 1_000)],
  /** How often runners renew leases; also bounds how long a cancel takes to reach a runner. */
  heartbeatIntervalMs: ["HEARTBEAT_INTERVAL_SECONDS", numberSetting(z.number().min(0.5).max(600).default(2)).transform((s) => Math.round(s * 1_000))],
  /** Dispatcher objects per runner pool (`dispatcher/shards.ts`): more spreads a busy pool's enqueues and lease polls. */
  dispatcherShards: ["DISPATCHER_SHARDS", numberSetting(z.number().int().min(1).max(64).default(1))],
  /** Output stored per task; beyond it a truncation marker, and the rest is dropped. */
  outputMaxBytes: ["OUTPUT_MAX_BYTES", numberSetting(z.number().int().min(65_536).default(OUTPUT_MAX_BYTES_DEFAULT))],
  /** How long an ended task is kept (its record, output, patch, deliveries) before it is deleted; null (0 days): forever. */
  taskRetentionMs: [
    "TASK_RETENTION_DAYS",
    numberSetting(z.number({ error: "TASK_RETENTION_DAYS must be a number of days (0: keep forever)" }).min(0).max(36_500).default(30)).transform((days) =>
      days > 0 ? Math.round(days * DAY_MS) : null,
    ),
  ],
});
export type TaskConfig = ConfigOf<typeof TaskSettings>;
