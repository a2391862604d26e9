/**
 * The task object's side of the task-index outbox (`index-outbox.ts` keeps its rows): reporting
 * the owed entry to the `TaskIndex` shard of the task's owner (`task-index-shards.ts`) after a
 * change, in the background, and again from the alarm when a report failed or was lost. A report
 * is owed until the index took it, so a failure is logged, never thrown.
 *
 * Storing the index's acknowledgement is a write of its own, and it moves the alarm off the
 * report's deadline. For a queued task whose re-offer check falls no later anyway (a new task),
 * the acknowledgement is kept in memory instead and stored with the task's next state write
 * (`StatusRecorder.record`: its lease, usually) or at that wake-up, whichever comes first. Lost with the instance,
 * it costs one more report of the same version, which the index ignores.
 * @module
 */
import { taskIndexFor } from "../task-index/task-index-shards.js";
import type { AlarmConcern } from "./alarm-schedule.js";
import { indexDeadline, reportToIndex, type ReportOutcome, saveIndexAck } from "./index-outbox.js";
import type { TaskHost } from "./task-host.js";

export class TaskIndexReporter implements AlarmConcern {
  readonly name = "task index report";
  /** The highest version the index acknowledged that is not stored yet. */
  private unsavedAck: number | null = null;

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
    // An acknowledgement kept in memory: stored now, and the index need not be asked again.
    this.saveAck();
    await this.send();
  }

  /** Stores, in the caller's write, an acknowledgement kept in memory (if any). */
  saveAck(): void {
    if (this.unsavedAck === null) return;
    saveIndexAck(this.host.sql, this.unsavedAck);
    this.unsavedAck = null;
  }

  /** Reports the task's state to the task index if a report is owed, then re-arms the alarm if that wrote. Never throws. */
  async report(): Promise<void> {
    try {
      const outcome = await this.send();
      // A moved deadline, or a stored acknowledgement, changes when the alarm is due.
      const wrote = outcome === "failed" || (outcome === "acknowledged" && this.unsavedAck === null);
      if (wrote && this.host.load()) this.host.schedule.arm();
    } catch (err) {
      // The report stays owed and its deadline is on the alarm: it is made later.
      this.host.logAny().warn("task index report failed", { error: String(err) });
    }
  }

  private send(): Promise<ReportOutcome> {
    const { env, sql } = this.host;
    // To the shard that lists the task's owner.
    return reportToIndex(
      sql,
      { put: (entry) => taskIndexFor(env, entry.owner).put(entry) },
      {
        onFailure: (err) => this.host.logAny().warn("task index report failed; the alarm retries", { error: String(err) }),
        acknowledge: (version) => this.acknowledged(version),
      },
    );
  }

  /**
   * The index took `version`: stored now, unless the task is queued and another deadline (its
   * re-offer check) keeps the alarm where it is anyway — then its lease, usually moments away,
   * or that check stores it.
   */
  private acknowledged(version: number): void {
    const { sql, schedule } = this.host;
    this.unsavedAck = Math.max(this.unsavedAck ?? 0, version);
    const due = indexDeadline(sql);
    const other = schedule.nextWakeUp(Date.now(), this);
    if (this.host.load()?.state.status === "queued" && due !== null && other !== null && other <= due) return;
    this.saveAck();
  }
}
