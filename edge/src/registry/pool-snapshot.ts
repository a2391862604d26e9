/**
 * What a pool's Dispatcher tells the `PoolRegistry` about itself: its gauges and its runners as
 * of one moment. `/metrics` and `GET /api/v1/runners` read these snapshots from the one
 * registry instead of calling every pool's Dispatcher, which past ~1,000 pools would be more
 * subrequests than one request may make.
 *
 * A snapshot is at most the push interval old (`POOL_SNAPSHOT_SECONDS`; see
 * `dispatcher/snapshot-pusher.ts`). What time alone changes is brought up to date when read:
 * the oldest queued task's age grows with the clock, and runners silent for `RUNNER_STALE_MS`
 * are left out, as their Dispatcher would prune them.
 * @module
 */
import type { RunnerInfo } from "#api/runner-protocol.js";
import { RUNNER_STALE_MS } from "../dispatcher/runner-store.js";

/** One pool's gauges (see `api/metrics.ts`). */
export interface PoolGauges {
  queued: number;
  oldestQueuedAgeSeconds: number;
  inProgress: number;
  runnersTotal: number;
  runnersActive: number;
}

/** A Dispatcher's gauges and runners (sorted by id) when it took the snapshot. */
export interface PoolSnapshot {
  takenAt: number;
  gauges: PoolGauges;
  runners: RunnerInfo[];
}

/** The runners of the snapshot heard from within `RUNNER_STALE_MS` of `now`. */
export function liveRunners(snapshot: PoolSnapshot, now: number): RunnerInfo[] {
  return snapshot.runners.filter((r) => Date.parse(r.last_seen_at) >= now - RUNNER_STALE_MS);
}

/** The snapshot's gauges as of `now`: the queue's age moved on, silent runners left out. */
export function gaugesAt(snapshot: PoolSnapshot, now: number): PoolGauges {
  const { gauges } = snapshot;
  const runners = liveRunners(snapshot, now);
  const aged = gauges.queued > 0 ? gauges.oldestQueuedAgeSeconds + Math.max(0, now - snapshot.takenAt) / 1_000 : 0;
  return { ...gauges, oldestQueuedAgeSeconds: aged, runnersTotal: runners.length, runnersActive: runners.filter((r) => r.running > 0).length };
}

/** A pool the registry knows but that has pushed no snapshot yet. */
export const EMPTY_GAUGES: PoolGauges = { queued: 0, oldestQueuedAgeSeconds: 0, inProgress: 0, runnersTotal: 0, runnersActive: 0 };
