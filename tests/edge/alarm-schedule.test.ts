/**
 * Integration: the one alarm of a task object is set to the earliest wake-up its concerns
 * report, a `whenIdle` concern (retention) counts only once no other one is pending, and an
 * alarm runs the concerns in order, stopping at one that says the task is gone, and arms before
 * the `afterArming` ones send — against a real object's storage (`runInDurableObject`, on an
 * object that holds no task).
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { AlarmSchedule, type AlarmConcern } from "../../edge/src/task/alarm-schedule.js";
import { taskObjectOf } from "./api-client.js";

const HOUR = 3_600_000;

/** A concern whose wake-up a test moves by hand, and that notes when it ran. */
function concern(name: string, wakeUp: number | null, ran: string[], extra: Partial<AlarmConcern> = {}): AlarmConcern & { wakeUp: number | null } {
  return {
    name,
    wakeUp,
    nextWakeUp() {
      return this.wakeUp;
    },
    async onAlarm() {
      ran.push(name);
    },
    ...extra,
  };
}

describe("alarm schedule", () => {
  it("arms for the earliest wake-up, counts an idle concern only when nothing else is pending, and clears when none is", async () => {
    await runInDurableObject(taskObjectOf(`alarm-schedule-${crypto.randomUUID()}`), async (_instance, state) => {
      const now = Date.now();
      const ran: string[] = [];
      const schedule = new AlarmSchedule(state.storage);
      const webhooks = concern("webhooks", now + 3 * HOUR, ran);
      const index = concern("index", now + 2 * HOUR, ran);
      const retention = concern("retention", now + HOUR, ran, { whenIdle: true });
      for (const c of [retention, webhooks, index]) schedule.register(c);

      schedule.arm(now);
      expect(await state.storage.getAlarm()).toBe(now + 2 * HOUR);
      expect(schedule.othersIdle(now)).toBe(false);

      index.wakeUp = null;
      webhooks.wakeUp = null;
      expect(schedule.othersIdle(now)).toBe(true);
      schedule.arm(now);
      expect(await state.storage.getAlarm()).toBe(now + HOUR);

      retention.wakeUp = null;
      schedule.arm(now);
      expect(await state.storage.getAlarm()).toBeNull();
    });
  });

  it("runs concerns in order, then re-arms; one that reports the task gone stops the run and leaves the alarm alone", async () => {
    await runInDurableObject(taskObjectOf(`alarm-schedule-${crypto.randomUUID()}`), async (_instance, state) => {
      const now = Date.now();
      const ran: string[] = [];
      const schedule = new AlarmSchedule(state.storage);
      const first = concern("first", now + HOUR, ran);
      const gone = concern("gone", null, ran, {
        async onAlarm() {
          ran.push("gone");
          return "stop";
        },
      });
      const last = concern("last", now + 2 * HOUR, ran);
      for (const c of [first, gone, last]) schedule.register(c);

      await schedule.run(now);
      expect(ran).toEqual(["first", "gone"]);
      expect(await state.storage.getAlarm()).toBeNull();

      gone.onAlarm = async () => void ran.push("gone");
      first.wakeUp = null;
      // Registered before `last`, it still runs after the others, once the alarm is armed.
      let armedWhenSending: number | null = null;
      const sender = concern("sender", null, ran, {
        afterArming: true,
        async onAlarm() {
          ran.push("sender");
          armedWhenSending = await state.storage.getAlarm();
        },
      });
      const schedule2 = new AlarmSchedule(state.storage);
      for (const c of [first, sender, gone, last]) schedule2.register(c);
      await schedule2.run(now);
      expect(ran).toEqual(["first", "gone", "first", "gone", "last", "sender"]);
      expect(armedWhenSending).toBe(now + 2 * HOUR);
      await state.storage.deleteAlarm();
    });
  });
});
