/**
 * The task object's side of the task-index outbox (`index-outbox.ts` keeps its rows): reporting
 * the owed entry to the `TaskIndex` shard of the task's owner (`task-index-shards.ts`) after a
 * change, in the background, and again from the alarm when a report failed or was lost. A report
 * is owed until the index took it, so a failure is logged, never thrown.
 * @module
 */
import { taskIndexFor } from "../task-index/task-index-shards.js";
import type { AlarmConcern } from "./alarm-schedule.js";
import { indexDeadline, reportToIndex } from "./index-outbox.js";
import type { TaskHost } from "./task-host.js";

export class TaskIndexReporter implements AlarmConcern {
  readonly name = "task index report";

  constructor(private readonly host: TaskHost) {}

  nextWakeUp(): number | null {
    return indexDeadline(this.host.sql);
  }

  /** A report was owed before `now` (a task older than the index, or one whose alarm was lost). */
  overdue(now: number): boolean {
    const due = indexDeadline(this.host.sql);
    return due !== null && due <= now;
  }

  async onAlarm(): Promise<void> {
    await this.send();
  }

  /** Reports the task's state to the task index if a report is owed, then re-arms the alarm. Never throws. */
  async report(): Promise<void> {
    try {
      await this.send();
      if (this.host.load()) this.host.schedule.arm();
    } catch (err) {
      // The report stays owed and its deadline is on the alarm: it is made later.
      this.host.logAny().warn("task index report failed", { error: String(err) });
    }
  }

  private send(): Promise<boolean> {
    const { env } = this.host;
    // To the shard that lists the task's owner.
    return reportToIndex(this.host.sql, { put: (entry) => taskIndexFor(env, entry.owner).put(entry) }, Date.now, (err) => {
      this.host.logAny().warn("task index report failed; the alarm retries", { error: String(err) });
    });
  }
}
