/**
 * `Dispatcher`: one Durable Object per runner pool. It keeps the pool's queue of task ids in
 * priority order and the runners waiting in long polls, and matches the two: a task enqueued
 * while a capable runner waits is handed to it at once, without touching the queue.
 *
 * It also remembers the runners it has seen (`runner-store.ts`), for the admin runners list and
 * for telling a queued task why it waits, and pushes its gauges and runners to the
 * `PoolRegistry` when they change (`snapshot-pusher.ts`), where `/metrics` and the list read them.
 *
 * What expires — runners gone silent, key slots, handed-out marks, queue admissions — is left
 * out by every read and deleted by the object's alarm (`PRUNE_INTERVAL_MS`), not by the lease
 * polls and enqueues on the hot path.
 *
 * And it enforces per-key task limits (`key-slots.ts`, `queue-admissions.ts`): a task of a key
 * at its `max_concurrent_tasks` stays queued until one of the key's tasks stops running, and
 * a key at its `max_queued_tasks` gets no new place in the queue.
 *
 * It never calls task objects. The Worker takes a task id from here and asks that task object
 * for a lease; if the task can no longer be leased (canceled meanwhile), the Worker takes again.
 * @module
 */
import { DurableObject } from "cloudflare:workers";
import type { RunnerInfo } from "#api/runner-protocol.js";
import { recordAudit } from "../audit/audit-record.js";
import { edgeConfig, type Env } from "../env.js";
import type { PoolGauges, PoolSnapshot } from "../registry/pool-snapshot.js";
import { migrate } from "../sql/migrations.js";
import { clearHandedOut, countHandedOut, markHandedOut, pruneHandedOut } from "./handed-out.js";
import { holdSlot, keyAtLimit, pruneSlots, releaseSlot, slotExpiresAt } from "./key-slots.js";
import { admit, pruneAdmissions, settleAdmission } from "./queue-admissions.js";
import { insertEntry, oldestEnqueuedAt, QUEUE_MIGRATIONS, queueDepth, removeEntry, takeEntry, type QueueEntry, type RunnerOffer } from "./queue-store.js";
import { RUNNER_MIGRATIONS, RunnerRegistry, type RunnerSighting } from "./runner-store.js";
import { dispatcherShard, parseShardName } from "./shards.js";
import { SnapshotPusher } from "./snapshot-pusher.js";
import { waitingReason, type WaitingTask } from "./waiting-reason.js";
import { WaiterList } from "./waiters.js";

/** What became of an enqueued task: handed to a waiting runner, or queued (and why it waits). */
export interface Enqueued {
  handedOff: boolean;
  /**
   * Why no runner can take it now (see `waiting-reason.ts`); null when handed off, when a capable
   * runner has room, or on a re-offer of a task already queued (not worked out again: nobody reads it).
   */
  waitingReason: string | null;
}

export type { PoolGauges };

/** How often the alarm deletes what expired, while there is anything that can. */
export const PRUNE_INTERVAL_MS = 60_000;

export class Dispatcher extends DurableObject<Env> {
  private readonly waiters = new WaiterList();
  private readonly runnerRegistry: RunnerRegistry;
  private readonly snapshots = new SnapshotPusher(
    this.ctx,
    this.env,
    () => this.snapshot(),
    (at) => this.wakeAt(at),
  );
  /** The alarm this instance last set, null when unknown or fired; memory only. */
  private alarmAt: number | null = null;
  /** True once this instance made sure the prune alarm is set; memory only. */
  private pruneArmed = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // In id order: the queue's and the runners' migrations interleave (1 queue, 2 runners, 3 queue).
    migrate(
      ctx.storage.sql,
      [...QUEUE_MIGRATIONS, ...RUNNER_MIGRATIONS].sort((a, b) => a.id - b.id),
    );
    this.runnerRegistry = new RunnerRegistry(ctx.storage.sql, Date.now());
  }

  /**
   * Queues a task, or hands it straight to a waiting runner that can run it. Idempotent.
   * On a hand-off the task is in no queue until that runner leases it. A queued task also
   * learns why it waits, so its creator's answer needs no second call here.
   */
  async enqueue(entry: QueueEntry): Promise<Enqueued> {
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    // A task being queued runs nowhere: whatever slot it held is free again.
    const freed = releaseSlot(sql, entry.taskId);
    clearHandedOut(sql, entry.taskId);
    settleAdmission(sql, entry.taskId);
    this.snapshots.changed();
    this.armPruning();
    const limited = entry.maxConcurrent != null && entry.ownerKeyId != null;
    if (!(limited && keyAtLimit(sql, entry.ownerKeyId!, entry.maxConcurrent!, now)) && this.waiters.offer(entry)) {
      // A re-offer of a task still in the queue must not leave it there to be taken twice.
      removeEntry(sql, entry.taskId);
      markHandedOut(sql, entry.taskId, slotExpiresAt(now, entry.timeoutMs ?? 0));
      if (limited) holdSlot(sql, { taskId: entry.taskId, keyId: entry.ownerKeyId!, expiresAt: slotExpiresAt(now, entry.timeoutMs ?? 0) });
      return { handedOff: true, waitingReason: null };
    }
    const inserted = insertEntry(sql, entry, now);
    if (freed) this.serveWaiters();
    // A re-offer of a task already queued (every 30 s) is told nothing: its creator was told why it waits.
    return { handedOff: false, waitingReason: inserted ? waitingReason(entry, this.runnerRegistry.list(now)) : null };
  }

  async remove(taskId: string): Promise<void> {
    const sql = this.ctx.storage.sql;
    removeEntry(sql, taskId);
    settleAdmission(sql, taskId);
    clearHandedOut(sql, taskId);
    if (releaseSlot(sql, taskId)) this.serveWaiters();
    this.snapshots.changed();
  }

  /** The task stopped running: its key's slot is free, and a task held back by it may go. */
  async releaseSlot(taskId: string): Promise<void> {
    clearHandedOut(this.ctx.storage.sql, taskId);
    if (releaseSlot(this.ctx.storage.sql, taskId)) this.serveWaiters();
    this.snapshots.changed();
  }

  /** Reserves a queue place for a new task of a key with `max_queued_tasks`; false when full. */
  async admit(input: { taskId: string; keyId: string; maxQueued: number }): Promise<boolean> {
    this.armPruning();
    return admit(this.ctx.storage.sql, { ...input, now: Date.now() });
  }

  /**
   * The next task id `runner` can run, waiting up to `waitMs` for one; null if none came.
   * `sighting` (what the lease request said about the runner) is recorded for the runners list;
   * a runner the pool had not seen lately is audited as `runner.register` (with `request`'s id and IP).
   * A runner with no free slot (`running` ≥ `capacity`) takes nothing: its request only says it
   * is alive, once per runner however many tasks it runs.
   */
  async take(runner: RunnerOffer, waitMs: number, sighting?: RunnerSighting, request?: { requestId: string; clientIp: string | null }): Promise<string | null> {
    const sql = this.ctx.storage.sql;
    if (sighting) {
      this.armPruning();
      if (this.runnerRegistry.record(sighting, Date.now())) {
        recordAudit(this.env, (p) => this.ctx.waitUntil(p), {
          actor: `runner:${sighting.runnerId}`,
          clientIp: request?.clientIp ?? null,
          requestId: request?.requestId ?? "unknown",
          action: "runner.register",
          target: sighting.runnerId,
          outcome: "success",
        });
      }
      this.snapshots.changed();
      if (sighting.running >= sighting.capacity) return null;
    }
    let taskId = takeEntry(sql, runner, Date.now());
    if (taskId === null && waitMs > 0) taskId = await this.waiters.wait(runner, waitMs);
    if (taskId !== null && sighting) this.runnerRegistry.countTaken(sighting.runnerId);
    if (taskId !== null) this.snapshots.changed();
    return taskId;
  }

  /** The runners seen lately; shard 0 answers for every shard of its pool. */
  async runners(): Promise<RunnerInfo[]> {
    const own = this.runnerRegistry.list(Date.now());
    const siblings = this.siblings();
    if (siblings.length === 0) return own;
    return mergeRunners([own, ...(await Promise.all(siblings.map((s) => s.runners())))]);
  }

  /** Why a queued task of this pool waits, or null when a capable runner has room. */
  async waitingReason(task: WaitingTask): Promise<string | null> {
    return waitingReason(task, this.runnerRegistry.list(Date.now()));
  }

  async stats(): Promise<{ queued: number; waiting_runners: number }> {
    return { queued: queueDepth(this.ctx.storage.sql), waiting_runners: this.waiters.size };
  }

  /**
   * What `/metrics` reads of this pool at scrape time: one SQLite read, no task object. Shard 0
   * answers for every shard of its pool: queues and tasks handed out add up, the oldest entry
   * is the oldest of all, and a runner every shard knows counts once.
   */
  async gauges(): Promise<PoolGauges> {
    const own = this.ownGauges();
    const siblings = this.siblings();
    if (siblings.length === 0) return own.gauges;
    const all = [own, ...(await Promise.all(siblings.map((s) => s.shardGauges())))];
    const runners = mergeRunners(all.map((g) => g.runners));
    return {
      queued: all.reduce((sum, g) => sum + g.gauges.queued, 0),
      oldestQueuedAgeSeconds: Math.max(...all.map((g) => g.gauges.oldestQueuedAgeSeconds)),
      inProgress: all.reduce((sum, g) => sum + g.gauges.inProgress, 0),
      runnersTotal: runners.length,
      runnersActive: runners.filter((r) => r.running > 0).length,
    };
  }

  /** This shard's own gauges and runners, for shard 0 to add up. */
  async shardGauges(): Promise<{ gauges: PoolGauges; runners: RunnerInfo[] }> {
    return this.ownGauges();
  }

  private ownGauges(): { gauges: PoolGauges; runners: RunnerInfo[] } {
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    const runners = this.runnerRegistry.list(now);
    const oldest = oldestEnqueuedAt(sql);
    const gauges = {
      queued: queueDepth(sql),
      oldestQueuedAgeSeconds: oldest === null ? 0 : Math.max(0, (now - oldest) / 1_000),
      inProgress: countHandedOut(sql, now),
      runnersTotal: runners.length,
      runnersActive: runners.filter((r) => r.running > 0).length,
    };
    return { gauges, runners };
  }

  /** What the registry keeps of this shard (`/metrics`, the runners list add up a pool's shards). */
  private snapshot(): PoolSnapshot {
    return { takenAt: Date.now(), ...this.ownGauges() };
  }

  /** The pool's other shards when this is shard 0 of several (see shards.ts); none otherwise. */
  private siblings(): DurableObjectStub<Dispatcher>[] {
    const name = this.ctx.id.name;
    const shards = edgeConfig(this.env).dispatcherShards;
    if (name === undefined || shards === 1) return [];
    const { pool, shard } = parseShardName(name);
    if (shard !== 0) return [];
    return Array.from({ length: shards - 1 }, (_, i) => dispatcherShard(this.env, pool, i + 1));
  }

  /** Pushes a snapshot that waited; deletes what expired, and comes back while anything is left that can expire. */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    await this.snapshots.onAlarm();
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    this.runnerRegistry.prune(now);
    pruneSlots(sql, now);
    pruneHandedOut(sql, now);
    pruneAdmissions(sql, now);
    const { n } = sql
      .exec<{ n: number }>(
        "SELECT (SELECT COUNT(*) FROM runners) + (SELECT COUNT(*) FROM key_slots) + (SELECT COUNT(*) FROM handed_out) + (SELECT COUNT(*) FROM admissions) AS n",
      )
      .one();
    if (n > 0) this.wakeAt(now + PRUNE_INTERVAL_MS);
    else this.pruneArmed = false;
  }

  /** Sets the alarm for `at` unless this instance already set it for then or sooner. */
  private wakeAt(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  /** Makes sure the prune alarm is set: one read per instance, a write only when none was. */
  private armPruning(): void {
    if (this.pruneArmed) return;
    this.pruneArmed = true;
    const storage = this.ctx.storage;
    void storage.getAlarm().then((at) => (at === null ? this.wakeAt(Date.now() + PRUNE_INTERVAL_MS) : undefined));
  }

  /** Hands queued tasks that a freed slot let through to runners already waiting. */
  private serveWaiters(): void {
    if (this.waiters.size === 0) return;
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    this.waiters.serve((runner) => takeEntry(sql, runner, now));
  }
}

/** One list from several shards' lists: each runner once, as the shard that heard from it last has it. */
function mergeRunners(lists: RunnerInfo[][]): RunnerInfo[] {
  const byId = new Map<string, RunnerInfo>();
  for (const runner of lists.flat()) {
    const seen = byId.get(runner.id);
    if (!seen || runner.last_seen_at > seen.last_seen_at) byId.set(runner.id, runner);
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
