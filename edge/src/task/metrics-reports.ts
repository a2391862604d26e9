/**
 * The task object's metric reports (its end and duration, its webhook attempts): staged in the
 * object's storage in the same turn as what they count (`metrics/metrics-outbox.ts`), then sent
 * to the `Metrics` shard the task's id hashes to in the background, and by the alarm while any are left.
 * @module
 */
import type { Sample } from "../metrics/samples.js";
import { hasStagedSamples, OUTBOX_RETRY_MS, sendStagedSamples, stageSamples } from "../metrics/metrics-outbox.js";
import { metricsShardFor } from "../metrics/metrics-object.js";
import { taskEndSamples } from "../metrics/task-metrics.js";
import type { AlarmConcern } from "./alarm-schedule.js";
import type { LifecycleState } from "./lifecycle.js";
import type { TaskHost } from "./task-host.js";
import { loadTask, type TaskRecord } from "./task-store.js";

export class MetricsReports implements AlarmConcern {
  readonly name = "metric reports";
  /** Sending re-arms the alarm once done, so the alarm is armed for the rest before they leave. */
  readonly afterArming = true;

  constructor(private readonly host: TaskHost) {}

  /** Staged reports are retried this long from now; null when none is waiting. */
  nextWakeUp(now: number): number | null {
    return hasStagedSamples(this.host.ctx.storage.kv) ? now + OUTBOX_RETRY_MS : null;
  }

  async onAlarm(): Promise<void> {
    const task = this.host.load();
    if (task) await this.send(task);
  }

  /** Stages samples in the caller's write. */
  stage(samples: Sample[], now: number): void {
    stageSamples(this.host.ctx.storage.kv, samples, now);
  }

  /** Counts the task's end and its duration (creation to end), in the same write as the end. */
  stageTaskEnd(state: LifecycleState, now: number): void {
    const task = loadTask(this.host.sql)!;
    const seconds = Math.max(0, (now - task.createdAt) / 1_000);
    this.stage(taskEndSamples({ status: state.status, cli: task.spec.cli, durationSeconds: seconds }), now);
    this.host
      .log(task)
      .info("task ended", { status: state.status, cli: task.spec.cli, duration_seconds: seconds, attempt: state.attempt, error_code: state.error?.code });
  }

  /** Sends staged metric reports to the task's `Metrics` shard; on failure they wait for the alarm. */
  async send(task: Pick<TaskRecord, "id">): Promise<void> {
    try {
      // Once sent, the alarm need not come back for them: re-arm for what is left.
      if (await sendStagedSamples(this.host.ctx.storage.kv, (samples) => metricsShardFor(this.host.env, task.id).add(samples))) this.host.schedule.arm();
    } catch (err) {
      this.host.log(task).warn("metrics report failed; the alarm retries", { error: String(err) });
      this.host.schedule.arm();
    }
  }
}
