/**
 * Pushes a Dispatcher's snapshot (its gauges and runners) to the `PoolRegistry` when it
 * changed, at most once per interval: the first change after a quiet interval is pushed at
 * once, later ones together when the interval is over, by the Dispatcher's alarm (so a change
 * is never only in memory). While the shard has queued or handed-out tasks, the alarm also
 * pushes every `SNAPSHOT_REFRESH_MS`, which catches what changes with time alone (a hand-out
 * expiring); runners need no refresh: the registry leaves out those silent for two minutes.
 *
 * Each shard of a pool (`shards.ts`) pushes its own, under its object name; the registry adds
 * a pool's shards up when read.
 * @module
 */
import { edgeConfig, type Env } from "../env.js";
import { logFor } from "../log.js";
import { boundedSnapshot, type PoolSnapshot } from "../registry/pool-snapshot.js";
import { poolRegistry } from "../registry/pool-registry.js";

/** A shard with queued or handed-out tasks is pushed at least this often, whatever changed. */
export const SNAPSHOT_REFRESH_MS = 60_000;

/** Used when the configuration cannot be read (it is reported by `/ready`). */
const DEFAULT_INTERVAL_MS = 10_000;

export class SnapshotPusher {
  private lastPushAt = 0;
  private pushing = false;
  private changedWhilePushing = false;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    private readonly snapshot: () => PoolSnapshot,
    /** Asks for the Dispatcher's alarm at `at` (or sooner, if it is already set so). */
    private readonly wakeAt: (at: number) => void,
  ) {}

  /** Something in the shard changed. */
  changed(): void {
    if (this.pushing) {
      this.changedWhilePushing = true;
      return;
    }
    const due = this.lastPushAt + this.intervalMs();
    if (Date.now() < due) {
      this.wakeAt(due);
      return;
    }
    // After the caller's turn, so the snapshot includes the change it is making.
    this.pushing = true;
    queueMicrotask(() => void this.push());
  }

  /** The Dispatcher's alarm: push what changed since the last push. */
  async onAlarm(): Promise<void> {
    if (this.pushing) {
      this.changedWhilePushing = true;
      return;
    }
    this.pushing = true;
    await this.push();
  }

  /** Takes and sends the snapshot; `pushing` is set by the caller. */
  private async push(): Promise<void> {
    const name = this.ctx.id.name;
    if (name === undefined) {
      this.pushing = false; // not made by name: no pool to report
      return;
    }
    this.changedWhilePushing = false;
    const snapshot = boundedSnapshot(this.snapshot());
    this.lastPushAt = snapshot.takenAt;
    try {
      await poolRegistry(this.env).report(name, snapshot);
    } catch (err) {
      this.changedWhilePushing = true; // try again when the interval is over
      logFor(this.env).warn("pool snapshot push failed; retried by the alarm", { dispatcher: name, error: String(err) });
    } finally {
      this.pushing = false;
    }
    const { gauges } = snapshot;
    if (this.changedWhilePushing) this.wakeAt(this.lastPushAt + this.intervalMs());
    else if (gauges.queued > 0 || gauges.inProgress > 0) this.wakeAt(this.lastPushAt + SNAPSHOT_REFRESH_MS);
  }

  private intervalMs(): number {
    try {
      return edgeConfig(this.env).metrics.poolSnapshotIntervalMs;
    } catch {
      return DEFAULT_INTERVAL_MS;
    }
  }
}
