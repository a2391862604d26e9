/**
 * Runners waiting in a long poll, oldest first.
 *
 * Waiters exist only while their lease request is open, so they live in memory: if the
 * object goes away, so do the requests, and the runners simply poll again.
 * @module
 */
import { canRun, type QueueEntry, type RunnerOffer } from "./queue-store.js";

interface Waiter {
  runner: RunnerOffer;
  resolve: (taskId: string | null) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class WaiterList {
  private readonly waiters: Waiter[] = [];

  /**
   * Waits up to `waitMs` for a task handed over by `offer`; resolves null on timeout. A runner
   * polls one lease at a time, so an older wait of the same runner id belongs to a poll that is
   * gone (the runner restarted, or gave up on it): it ends now with nothing, rather than stay in
   * line to be handed a task nobody would receive, which would lapse and cost an attempt.
   */
  wait(runner: RunnerOffer, waitMs: number): Promise<string | null> {
    for (const stale of this.waiters.filter((w) => w.runner.runnerId === runner.runnerId)) {
      this.drop(stale);
      clearTimeout(stale.timer);
      stale.resolve(null);
    }
    return new Promise((resolve) => {
      const waiter: Waiter = {
        runner,
        resolve,
        timer: setTimeout(() => {
          this.drop(waiter);
          resolve(null);
        }, waitMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Hands `entry` to the longest-waiting runner that can run it; false when none can. */
  offer(entry: QueueEntry): boolean {
    const waiter = this.waiters.find((w) => canRun(w.runner, entry));
    if (!waiter) return false;
    this.drop(waiter);
    clearTimeout(waiter.timer);
    waiter.resolve(entry.taskId);
    return true;
  }

  /** Offers each waiter, oldest first, whatever `pick` finds for it (a task freed from a limit). */
  serve(pick: (runner: RunnerOffer) => string | null): void {
    for (const waiter of [...this.waiters]) {
      const taskId = pick(waiter.runner);
      if (taskId === null) continue;
      this.drop(waiter);
      clearTimeout(waiter.timer);
      waiter.resolve(taskId);
    }
  }

  get size(): number {
    return this.waiters.length;
  }

  private drop(waiter: Waiter): void {
    const i = this.waiters.indexOf(waiter);
    if (i >= 0) this.waiters.splice(i, 1);
  }
}
