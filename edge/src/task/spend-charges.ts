/**
 * Sends what the task's ended attempts owe its owner key's monthly spend (`SpendMeter`), from
 * the outbox `attempt-usage.ts` keeps: right after an attempt ends, and from the alarm while a
 * charge is still owed. A failed send is logged; the charge waits for the alarm.
 * @module
 */
import { spendMeterOf } from "../spend/spend-meter-object.js";
import type { AlarmConcern } from "./alarm-schedule.js";
import { chargeDeadline, sendOwedCharges } from "./attempt-usage.js";
import type { TaskHost } from "./task-host.js";
import type { TaskRecord } from "./task-store.js";

export class SpendCharges implements AlarmConcern {
  readonly name = "spend charges";

  constructor(private readonly host: TaskHost) {}

  nextWakeUp(): number | null {
    return chargeDeadline(this.host.sql);
  }

  async onAlarm(): Promise<void> {
    const task = this.host.load();
    if (task) await this.send(task);
  }

  /** Sends what ended attempts owe the owner key's spend meter; on failure they wait for the alarm. */
  async send(task: TaskRecord): Promise<void> {
    const { sql } = this.host;
    if (chargeDeadline(sql) === null) return;
    try {
      const meter = spendMeterOf(this.host.env, task.owner);
      await sendOwedCharges(sql, { taskId: task.id, createdAt: task.createdAt, charge: (charge) => meter.charge(charge), now: Date.now });
    } catch (err) {
      this.host.log(task).warn("spend report failed; the alarm retries", { error: String(err) });
    }
    this.host.schedule.arm();
  }
}
