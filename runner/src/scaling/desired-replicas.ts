/**
 * How many runners a pool wants: the rule the KEDA manifests in `deploy/keda/` make Kubernetes
 * follow, written down once so that it can be tested and quoted (docs/deployment.md).
 *
 * A pool's demand is its queued tasks plus the tasks its runners are running
 * (`codeforge_pool_queue_depth` + `codeforge_pool_tasks_in_progress` on the edge's `/metrics`).
 * Counting the running tasks is what keeps a Deployment from scaling down while its runners
 * still work: on queue depth alone, the queue drains into runners, reads 0, and the autoscaler
 * removes the very runners running the tasks. Each runner takes `concurrency` tasks at once, so
 * the pool wants `ceil(demand / concurrency)` runners, kept within the autoscaler's bounds.
 * KEDA's Prometheus scaler with `metricType: AverageValue` and `threshold: <concurrency>` asks
 * the HPA for exactly that (within its 10 % tolerance); a `ScaledJob` of run-once runners is
 * the same rule with a concurrency of 1, less the jobs already running.
 * @module
 */

export interface PoolDemand {
  /** Tasks waiting in the pool's queue (`codeforge_pool_queue_depth`). */
  queued: number;
  /** Tasks of the pool a runner holds (`codeforge_pool_tasks_in_progress`). */
  inProgress: number;
}

export interface ScalingBounds {
  /** Tasks one runner runs at once (`CODEFORGE_CONCURRENCY`; 1 for run-once runners). */
  concurrency: number;
  /** KEDA's `minReplicaCount`: 0 lets an idle pool scale to nothing. */
  minReplicas: number;
  /** KEDA's `maxReplicaCount`. */
  maxReplicas: number;
}

/**
 * desired replicas = clamp(ceil((queued + in_progress) / concurrency), min, max)
 * @example
 * desiredReplicas({ queued: 5, inProgress: 2 }, { concurrency: 2, minReplicas: 0, maxReplicas: 10 }); // 4
 */
export function desiredReplicas(demand: PoolDemand, bounds: ScalingBounds): number {
  const { concurrency, minReplicas, maxReplicas } = bounds;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError("concurrency must be a whole number of at least 1");
  if (!(minReplicas >= 0 && minReplicas <= maxReplicas)) throw new RangeError("replica bounds must satisfy 0 <= min <= max");
  // A gauge read while it changes is never negative in effect.
  const load = Math.max(0, demand.queued) + Math.max(0, demand.inProgress);
  return Math.min(maxReplicas, Math.max(minReplicas, Math.ceil(load / concurrency)));
}
