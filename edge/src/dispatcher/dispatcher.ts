/**
 * `Dispatcher`: one Durable Object per runner pool. It keeps the pool's queue of task ids in
 * priority order and the runners waiting in long polls, and matches the two: a task enqueued
 * while a capable runner waits is handed to it at once, without touching the queue.
 *
 * It never calls task objects. The Worker takes a task id from here and asks that task object
 * for a lease; if the task can no longer be leased (canceled meanwhile), the Worker takes again.
 * @module
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";
import { migrate } from "../sql/migrations.js";
import { insertEntry, QUEUE_MIGRATIONS, queueDepth, removeEntry, takeEntry, type QueueEntry, type RunnerOffer } from "./queue-store.js";
import { WaiterList } from "./waiters.js";

export class Dispatcher extends DurableObject<Env> {
  private readonly waiters = new WaiterList();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage.sql, QUEUE_MIGRATIONS);
  }

  /**
   * Queues a task, or hands it straight to a waiting runner that can run it. Idempotent.
   * Returns true for a hand-off: the task is then in no queue until that runner leases it.
   */
  async enqueue(entry: QueueEntry): Promise<boolean> {
    if (this.waiters.offer(entry)) return true;
    insertEntry(this.ctx.storage.sql, entry);
    return false;
  }

  async remove(taskId: string): Promise<void> {
    removeEntry(this.ctx.storage.sql, taskId);
  }

  /** The next task id `runner` can run, waiting up to `waitMs` for one; null if none came. */
  async take(runner: RunnerOffer, waitMs: number): Promise<string | null> {
    const taskId = takeEntry(this.ctx.storage.sql, runner);
    if (taskId !== null || waitMs <= 0) return taskId;
    return this.waiters.wait(runner, waitMs);
  }

  async stats(): Promise<{ queued: number; waiting_runners: number }> {
    return { queued: queueDepth(this.ctx.storage.sql), waiting_runners: this.waiters.size };
  }
}
