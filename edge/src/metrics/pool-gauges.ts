/**
 * The gauges `/metrics` reads at scrape time: each pool's queue and runners as its Dispatcher
 * last pushed them to the `PoolRegistry` (at most `POOL_SNAPSHOT_SECONDS` old), read in one
 * call however many pools there are, and summed into the global gauges.
 * @module
 */
import type { Env } from "../env.js";
import { poolRegistry } from "../registry/pool-registry.js";
import type { Sample } from "./samples.js";

export async function poolGaugeSamples(env: Env): Promise<Sample[]> {
  const figures = await poolRegistry(env).gauges();
  const total = (pick: (g: (typeof figures)[number]["gauges"]) => number) => figures.reduce((n, f) => n + pick(f.gauges), 0);
  return [
    { name: "codeforge_tasks_in_progress", labels: {}, value: total((g) => g.inProgress) },
    { name: "codeforge_queue_depth", labels: {}, value: total((g) => g.queued) },
    { name: "codeforge_workers_active", labels: {}, value: total((g) => g.runnersActive) },
    { name: "codeforge_workers_total", labels: {}, value: total((g) => g.runnersTotal) },
    ...figures.map((f) => ({ name: "codeforge_pool_queue_depth", labels: { pool: f.pool }, value: f.gauges.queued })),
    ...figures.map((f) => ({ name: "codeforge_pool_tasks_in_progress", labels: { pool: f.pool }, value: f.gauges.inProgress })),
    ...figures.map((f) => ({ name: "codeforge_pool_oldest_queued_age_seconds", labels: { pool: f.pool }, value: f.gauges.oldestQueuedAgeSeconds })),
  ];
}
