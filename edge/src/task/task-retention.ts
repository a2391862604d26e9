/**
 * Retention: an ended task is deleted once `taskRetentionMs` has passed since it ended and it
 * owes nothing more (no webhook delivery, no index report, no metric report, no spend charge).
 * Its alarm wake-up counts only when every other concern is idle; the deletion removes its
 * task-index entry first (from its owner's shard), then all its storage, so it answers 404 from then on.
 * @module
 */
import { isTerminal } from "#api/task.js";
import { recordAudit } from "../audit/audit-record.js";
import { taskIndexFor } from "../task-index/task-index-shards.js";
import type { AlarmConcern } from "./alarm-schedule.js";
import { TASK_INDEX_RETRY_MS } from "./index-outbox.js";
import type { LifecycleState } from "./lifecycle.js";
import type { TaskHost } from "./task-host.js";

export class TaskRetention implements AlarmConcern {
  readonly name = "retention";
  readonly whenIdle = true;

  constructor(private readonly host: TaskHost) {}

  /** The end of an ended task's retention; null while it runs, or when tasks are kept forever. */
  nextWakeUp(): number | null {
    const task = this.host.load();
    return task ? retentionEnd(task.state, this.host.config.taskRetentionMs) : null;
  }

  /** The retention ended before `now` (a task that ended before there was one, say). */
  ended(now: number): boolean {
    const end = this.nextWakeUp();
    return end !== null && end <= now;
  }

  async onAlarm(now: number): Promise<"stop" | undefined> {
    return (await this.deleteIfExpired(now)) ? "stop" : undefined;
  }

  /**
   * Deletes an ended task whose retention is over and that owes nothing more. Other events wait
   * meanwhile, so a follow-up cannot slip in between. True when the task is gone (or its
   * deletion is to be retried).
   */
  private deleteIfExpired(now: number): Promise<boolean> {
    const { ctx, env, schedule } = this.host;
    return ctx.blockConcurrencyWhile(async () => {
      const task = this.host.load();
      const at = task && schedule.othersIdle(now) ? retentionEnd(task.state, this.host.config.taskRetentionMs) : null;
      if (!task || at === null || now < at) return false;
      try {
        await taskIndexFor(env, task.owner).remove(task.id);
      } catch (err) {
        this.host.log(task).warn("task index removal failed; deleting the task later", { error: String(err) });
        await schedule.wakeAt(now + TASK_INDEX_RETRY_MS);
        return true;
      }
      this.host.log(task).info("task deleted: its retention ended", { status: task.state.status, finished_at: new Date(task.state.finishedAt!).toISOString() });
      await schedule.disarm();
      await ctx.storage.deleteAll();
      recordAudit(env, (p) => ctx.waitUntil(p), {
        actor: "system:retention",
        clientIp: null,
        requestId: `retention:${task.id}`,
        action: "task.delete",
        target: task.id,
        outcome: "success",
      });
      return true;
    });
  }
}

/** When an ended task's retention is over; null while it runs, or when tasks are kept forever. */
function retentionEnd(state: LifecycleState, retentionMs: number | null): number | null {
  return retentionMs !== null && isTerminal(state.status) && state.finishedAt !== null ? state.finishedAt + retentionMs : null;
}
