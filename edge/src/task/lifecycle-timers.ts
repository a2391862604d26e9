/**
 * The lifecycle's deadlines on the object's alarm: re-offering a queued task, and ending or
 * retrying an attempt whose lease lapsed, ran out of time or was not confirmed canceled. When
 * they fall due is `lifecycle.nextDeadline`; what happens then is `lifecycle.onAlarm`.
 * @module
 */
import type { AlarmConcern } from "./alarm-schedule.js";
import * as lifecycle from "./lifecycle.js";
import type { StatusRecorder } from "./status-recorder.js";
import type { TaskHost } from "./task-host.js";

export class LifecycleTimers implements AlarmConcern {
  readonly name = "lifecycle";

  constructor(
    private readonly host: TaskHost,
    private readonly recorder: StatusRecorder,
  ) {}

  nextWakeUp(): number | null {
    const task = this.host.load();
    return task ? lifecycle.nextDeadline(task.state, this.host.timing) : null;
  }

  async onAlarm(now: number): Promise<void> {
    const task = this.host.load();
    if (!task) return;
    const decision = lifecycle.onAlarm(task.state, now, this.host.timing);
    // An alarm for another concern alone leaves the lifecycle as it was: write nothing (updated_at stays).
    if (decision.ok && (decision.state !== task.state || decision.changes.length > 0)) {
      this.recorder.record(decision.state, decision.changes, now);
      await this.recorder.carryOut(decision.effects, task);
    }
  }
}
