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

/** Runners a snapshot carries: ~500 KB of JSON, well under SQLite's 2 MB row. A pool shard with
 * more still counts them all in its gauges; the runners list shows the first by id. */
export const SNAPSHOT_RUNNERS_MAX = 2_000;

/** A Dispatcher's gauges and runners (sorted by id) when it took the snapshot. */
export interface PoolSnapshot {
  takenAt: number;
  gauges: PoolGauges;
  runners: RunnerInfo[];
  /** True when `runners` was cut to `SNAPSHOT_RUNNERS_MAX`: the gauges' runner counts are then the Dispatcher's. */
  runnersCut?: boolean;
}

/** The snapshot as stored: its runners cut to `SNAPSHOT_RUNNERS_MAX`. */
export function boundedSnapshot(snapshot: PoolSnapshot): PoolSnapshot {
  if (snapshot.runners.length <= SNAPSHOT_RUNNERS_MAX) return snapshot;
  return { ...snapshot, runners: snapshot.runners.slice(0, SNAPSHOT_RUNNERS_MAX), runnersCut: true };
}

/** The runners of the snapshot heard from within `RUNNER_STALE_MS` of `now`. */
export function liveRunners(snapshot: PoolSnapshot, now: number): RunnerInfo[] {
  return snapshot.runners.filter((r) => Date.parse(r.last_seen_at) >= now - RUNNER_STALE_MS);
}

/** The snapshot's gauges as of `now`: the queue's age moved on, silent runners left out. */
export function gaugesAt(snapshot: PoolSnapshot, now: number): PoolGauges {
  const { gauges } = snapshot;
  const aged = gauges.queued > 0 ? gauges.oldestQueuedAgeSeconds + Math.max(0, now - snapshot.takenAt) / 1_000 : 0;
  if (snapshot.runnersCut) return { ...gauges, oldestQueuedAgeSeconds: aged };
  const runners = liveRunners(snapshot, now);
  return { ...gauges, oldestQueuedAgeSeconds: aged, runnersTotal: runners.length, runnersActive: runners.filter((r) => r.running > 0).length };
}

/** A pool the registry knows but that has pushed no snapshot yet. */
export const EMPTY_GAUGES: PoolGauges = { queued: 0, oldestQueuedAgeSeconds: 0, inProgress: 0, runnersTotal: 0, runnersActive: 0 };
