/**
 * The gauges `/metrics` reads at scrape time: every pool the `PoolRegistry` knows is asked for
 * its queue and runners (`Dispatcher.gauges`, one SQLite read each, in parallel), and the
 * pools' figures are summed into the global gauges. Nothing is stored: a gauge is never stale.
 * @module
 */
import type { Env } from "../env.js";
import { poolRegistry } from "../registry/pool-registry.js";
import type { Sample } from "./samples.js";

export async function poolGaugeSamples(env: Env): Promise<Sample[]> {
  const pools = await poolRegistry(env).pools();
  const figures = await Promise.all(pools.map(async (pool) => ({ pool, gauges: await env.DISPATCHERS.get(env.DISPATCHERS.idFromName(pool)).gauges() })));
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
