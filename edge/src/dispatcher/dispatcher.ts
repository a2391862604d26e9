/**
 * `Dispatcher`: one Durable Object per runner pool. It keeps the pool's queue of task ids in
 * priority order and the runners waiting in long polls, and matches the two: a task enqueued
 * while a capable runner waits is handed to it at once, without touching the queue.
 *
 * It also remembers the runners it has seen (`runner-store.ts`), for the admin runners list and
 * for telling a queued task why it waits, and reports its pool to the `PoolRegistry`.
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
import type { Env } from "../env.js";
import { poolRegistry } from "../registry/pool-registry.js";
import { POOL_REPORT_INTERVAL_MS } from "../registry/pool-store.js";
import { migrate } from "../sql/migrations.js";
import { clearHandedOut, countHandedOut, markHandedOut } from "./handed-out.js";
import { holdSlot, keyAtLimit, pruneSlots, releaseSlot, slotExpiresAt } from "./key-slots.js";
import { admit, settleAdmission } from "./queue-admissions.js";
import { insertEntry, oldestEnqueuedAt, QUEUE_MIGRATIONS, queueDepth, removeEntry, takeEntry, type QueueEntry, type RunnerOffer } from "./queue-store.js";
import { countTaken, listRunners, recordRunner, RUNNER_MIGRATIONS, touchRunner, type RunnerSighting } from "./runner-store.js";
import { waitingReason, type WaitingTask } from "./waiting-reason.js";
import { WaiterList } from "./waiters.js";
import { logFor } from "../log.js";

/** What became of an enqueued task: handed to a waiting runner, or queued (and why it waits). */
export interface Enqueued {
  handedOff: boolean;
  /** Why no runner can take it now (see `waiting-reason.ts`); null when handed off or a capable runner has room. */
  waitingReason: string | null;
}

/** One pool's gauges (see `api/metrics.ts`). */
export interface PoolGauges {
  queued: number;
  oldestQueuedAgeSeconds: number;
  inProgress: number;
  runnersTotal: number;
  runnersActive: number;
}

export class Dispatcher extends DurableObject<Env> {
  private readonly waiters = new WaiterList();
  /** When this instance last reported its pool; memory only (a fresh instance reports again). */
  private poolReportedAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // In id order: the queue's and the runners' migrations interleave (1 queue, 2 runners, 3 queue).
    migrate(
      ctx.storage.sql,
      [...QUEUE_MIGRATIONS, ...RUNNER_MIGRATIONS].sort((a, b) => a.id - b.id),
    );
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
    // Not awaited: the pool is listed for metrics within a minute; the task need not wait for it.
    void this.reportPool(entry.pool);
    const limited = entry.maxConcurrent != null && entry.ownerKeyId != null;
    if (!(limited && keyAtLimit(sql, entry.ownerKeyId!, entry.maxConcurrent!, now)) && this.waiters.offer(entry)) {
      // A re-offer of a task still in the queue must not leave it there to be taken twice.
      removeEntry(sql, entry.taskId);
      markHandedOut(sql, entry.taskId, slotExpiresAt(now, entry.timeoutMs ?? 0));
      if (limited) holdSlot(sql, { taskId: entry.taskId, keyId: entry.ownerKeyId!, expiresAt: slotExpiresAt(now, entry.timeoutMs ?? 0) });
      return { handedOff: true, waitingReason: null };
    }
    insertEntry(sql, entry, now);
    if (freed) this.serveWaiters();
    return { handedOff: false, waitingReason: waitingReason(entry, listRunners(sql, now)) };
  }

  async remove(taskId: string): Promise<void> {
    const sql = this.ctx.storage.sql;
    removeEntry(sql, taskId);
    settleAdmission(sql, taskId);
    clearHandedOut(sql, taskId);
    if (releaseSlot(sql, taskId)) this.serveWaiters();
  }

  /** The task stopped running: its key's slot is free, and a task held back by it may go. */
  async releaseSlot(taskId: string): Promise<void> {
    clearHandedOut(this.ctx.storage.sql, taskId);
    if (releaseSlot(this.ctx.storage.sql, taskId)) this.serveWaiters();
  }

  /** Reserves a queue place for a new task of a key with `max_queued_tasks`; false when full. */
  async admit(input: { taskId: string; keyId: string; maxQueued: number }): Promise<boolean> {
    return admit(this.ctx.storage.sql, { ...input, now: Date.now() });
  }

  /**
   * The next task id `runner` can run, waiting up to `waitMs` for one; null if none came.
   * `sighting` (what the lease request said about the runner) is recorded for the runners list;
   * a runner the pool had not seen lately is audited as `runner.register` (with `request`'s id and IP).
   */
  async take(runner: RunnerOffer, waitMs: number, sighting?: RunnerSighting, request?: { requestId: string; clientIp: string | null }): Promise<string | null> {
    const sql = this.ctx.storage.sql;
    if (sighting) {
      if (recordRunner(sql, sighting, Date.now())) {
        recordAudit(this.env, (p) => this.ctx.waitUntil(p), {
          actor: `runner:${sighting.runnerId}`,
          clientIp: request?.clientIp ?? null,
          requestId: request?.requestId ?? "unknown",
          action: "runner.register",
          target: sighting.runnerId,
          outcome: "success",
        });
      }
      await this.reportPool(sighting.pool);
    }
    const now = Date.now();
    pruneSlots(sql, now);
    let taskId = takeEntry(sql, runner, now);
    if (taskId === null && waitMs > 0) taskId = await this.waiters.wait(runner, waitMs);
    if (taskId !== null && sighting) countTaken(sql, sighting.runnerId);
    return taskId;
  }

  /** A runner busy with a task of this pool is alive: keep it listed. */
  async touchRunner(runnerId: string): Promise<void> {
    touchRunner(this.ctx.storage.sql, runnerId, Date.now());
  }

  /** The runners seen lately. */
  async runners(): Promise<RunnerInfo[]> {
    return listRunners(this.ctx.storage.sql, Date.now());
  }

  /** Why a queued task of this pool waits, or null when a capable runner has room. */
  async waitingReason(task: WaitingTask): Promise<string | null> {
    return waitingReason(task, listRunners(this.ctx.storage.sql, Date.now()));
  }

  async stats(): Promise<{ queued: number; waiting_runners: number }> {
    return { queued: queueDepth(this.ctx.storage.sql), waiting_runners: this.waiters.size };
  }

  /** What `/metrics` reads of this pool at scrape time: one SQLite read, no task object. */
  async gauges(): Promise<PoolGauges> {
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    const runners = listRunners(sql, now);
    const oldest = oldestEnqueuedAt(sql);
    return {
      queued: queueDepth(sql),
      oldestQueuedAgeSeconds: oldest === null ? 0 : Math.max(0, (now - oldest) / 1_000),
      inProgress: countHandedOut(sql, now),
      runnersTotal: runners.length,
      runnersActive: runners.filter((r) => r.running > 0).length,
    };
  }

  /** Hands queued tasks that a freed slot let through to runners already waiting. */
  private serveWaiters(): void {
    if (this.waiters.size === 0) return;
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    this.waiters.serve((runner) => takeEntry(sql, runner, now));
  }

  /** Tells the registry this pool has runners, once a minute at most; failures wait for the next. */
  private async reportPool(pool: string): Promise<void> {
    const now = Date.now();
    if (now - this.poolReportedAt < POOL_REPORT_INTERVAL_MS) return;
    this.poolReportedAt = now;
    try {
      await poolRegistry(this.env).report(pool);
    } catch (err) {
      this.poolReportedAt = 0;
      logFor(this.env).warn("pool registry report failed; retried on the next lease", { pool, error: String(err) });
    }
  }
}
