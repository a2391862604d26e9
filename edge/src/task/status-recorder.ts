/**
 * Writes what `lifecycle.ts` decided and everything that must go with it, in one turn: the new
 * state, the status events in the log (queued for the watchers, who get the turn's events in one
 * frame), the attempt's spend charge, the webhooks and the task-index report the changes owe,
 * the task's end in the metrics, the erased secrets of an ended task — then re-arms the alarm. Sends leave afterwards, in the background.
 * Carrying out the decision's effects on the dispatcher comes last (`carryOut`).
 * @module
 */
import type { EventBody, StatusEvent } from "#api/stream-events.js";
import { isTerminal } from "#api/task.js";
import type { Enqueued } from "../dispatcher/dispatcher.js";
import { loadTraceparent } from "../webhooks/delivery-store.js";
import { settleEndedAttempts } from "./attempt-usage.js";
import { carryOutEffects } from "./dispatcher-effects.js";
import { appendEvent } from "./event-log.js";
import { markIndexDue } from "./index-outbox.js";
import * as lifecycle from "./lifecycle.js";
import type { MetricsReports } from "./metrics-reports.js";
import type { TaskHost } from "./task-host.js";
import type { TaskIndexReporter } from "./task-index-reporter.js";
import { eraseSecrets, loadTask, saveState, type TaskRecord } from "./task-store.js";
import type { WebhookDeliveries } from "./webhook-deliveries.js";

export class StatusRecorder {
  constructor(
    private readonly host: TaskHost,
    private readonly owed: { webhooks: WebhookDeliveries; index: TaskIndexReporter; metrics: MetricsReports },
  ) {}

  /**
   * Saves a new state, logs and broadcasts its status changes, and re-arms the alarm. With
   * changes, also starts the report to the task index, in the background: it leaves once the
   * write is committed, and the alarm makes it again should it fail.
   */
  record(state: lifecycle.LifecycleState, changes: readonly lifecycle.StatusChange[], now: number): void {
    const { sql, stream } = this.host;
    saveState(sql, state, now);
    // An attempt that just ended gets its charge to the key's monthly spend, in the same write.
    settleEndedAttempts(sql, state, now);
    const events = changes.map(
      (change) =>
        appendEvent(sql, {
          ts: now,
          iteration: state.iteration,
          attempt: state.attempt,
          body: {
            type: "status",
            status: change.status,
            runner_id: change.runnerId,
            error: change.error,
            ...(change.reason ? { reason: change.reason } : {}),
          } satisfies StatusEvent,
        }).text,
    );
    // An ended task never needs its secrets again: erase them in the same write.
    if (isTerminal(state.status)) eraseSecrets(sql);
    // An acknowledgement of the index kept in memory is stored with this write (see task-index-reporter.ts).
    this.owed.index.saveAck();
    if (changes.length) {
      this.owed.webhooks.queue(changes, now);
      markIndexDue(sql, now);
    }
    const ended = changes.some((change) => isTerminal(change.status)) && isTerminal(state.status);
    if (ended) this.owed.metrics.stageTaskEnd(state, now);
    stream.send(events);
    if (isTerminal(state.status) && changes.length) stream.closeAll();
    this.host.schedule.arm();
    // After the write: the reports leave in the background and the alarm retries them if need be.
    if (ended) void this.owed.metrics.send(loadTask(sql)!);
    if (changes.length) void this.owed.index.report();
  }

  /**
   * Appends one event of the current attempt to the log and queues it for the watchers: with the
   * status change recorded next in the same turn, it reaches them in the same frame.
   */
  note(at: { iteration: number; attempt: number }, body: EventBody, now: number): void {
    this.host.stream.send([appendEvent(this.host.sql, { ts: now, iteration: at.iteration, attempt: at.attempt, body }).text]);
  }

  /**
   * Effects talk to the task's dispatcher (see dispatcher-effects.ts); failures are logged and
   * healed by the re-queue alarm. Returns the dispatcher's answer to an enqueue, if any.
   */
  carryOut(effects: readonly lifecycle.Effect[], task: TaskRecord): Promise<Enqueued | null> {
    if (effects.length === 0) return Promise.resolve(null);
    return carryOutEffects(effects, task, {
      dispatcher: this.host.dispatcher(task),
      traceparent: loadTraceparent(this.host.sql),
      log: this.host.log(task),
      onHandedOff: () => this.expectLeaseSoon(),
    });
  }

  /**
   * After a hand-off, checks in `HANDOFF_CHECK_MS` that the lease came, and offers the task again
   * if it did not (that runner hung up its long poll). A timer in memory rather than a write on
   * the creator's path: an object that restarts meanwhile falls back on its stored re-queue check.
   */
  private expectLeaseSoon(): void {
    const handed = this.host.load();
    if (!handed) return;
    const { iteration, attempt } = handed.state;
    setTimeout(() => void this.recheckHandOff(iteration, attempt), lifecycle.HANDOFF_CHECK_MS);
  }

  private async recheckHandOff(iteration: number, attempt: number): Promise<void> {
    const task = this.host.load();
    if (!task) return;
    const now = Date.now();
    const decision = lifecycle.handOffUnclaimed(task.state, { iteration, attempt, now });
    if (!decision.ok || decision.effects.length === 0) return;
    this.record(decision.state, decision.changes, now);
    await this.carryOut(decision.effects, task);
  }
}
