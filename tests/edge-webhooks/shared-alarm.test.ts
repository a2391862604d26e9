/**
 * Integration: webhook deliveries and the lifecycle share the task object's one alarm
 * ("earliest deadline wins"), and a delivery survives the edge dying mid-attempt: all its state
 * is in SQLite, and the alarm comes back for it.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createTask, getTask, taskObjectOf, uniquePool } from "../edge/api-client.js";
import { advanceClock, fireAlarm } from "../edge/clock.js";
import { complete, heartbeat, sampleResult, startRunning } from "../edge/runner-client.js";
import { beginAttempt, dueDeliveries } from "../../edge/src/webhooks/delivery-store.js";
import { afterAttempts, deliveries, newHook, received, waitFor } from "./receiver-client.js";

const LEASE_TTL_MS = 30_000;

async function alarmAt(taskId: string): Promise<number | null> {
  return runInDurableObject(taskObjectOf(taskId), (_instance, state) => state.storage.getAlarm());
}

describe("one alarm for the lifecycle and the deliveries", () => {
  it("serves a delivery retry before the lease expiry, then the lease expiry before a later retry", async () => {
    const pool = uniquePool();
    const hook = await newHook({ default: { status: 500 } });
    const task = await createTask({ pool, callback_url: hook.url, callback_events: ["task.started"] });
    const lease = await startRunning(pool);

    // Attempt 1 ran at once; the retry (≈5 s) comes before the lease expiry (30 s).
    const first = await afterAttempts(task.id, 1);
    // The alarm that made the attempt re-arms once it is done with it (it may still be running).
    expect(
      await waitFor(
        () => alarmAt(task.id),
        (at) => at !== null,
      ),
    ).toBe(Date.parse(first.next_attempt_at!));
    expect(Date.parse(first.next_attempt_at!)).toBeLessThan(Date.now() + LEASE_TTL_MS);

    advanceClock(5_500);
    expect((await heartbeat(task.id, lease.lease_id)).status).toBe(200);
    await fireAlarm(task.id);
    const second = await afterAttempts(task.id, 2);
    // The next retry is ≈5 min away; the lease lapses in 30 s: the alarm is the lease's.
    const leaseExpiry = await alarmAt(task.id);
    expect(leaseExpiry).toBeLessThan(Date.parse(second.next_attempt_at!));
    expect(leaseExpiry! - Date.now()).toBeGreaterThan(LEASE_TTL_MS - 2_000);
    expect(leaseExpiry! - Date.now()).toBeLessThanOrEqual(LEASE_TTL_MS);

    // The lease lapses: the lifecycle acts (re-queue), the delivery is left for its own time.
    advanceClock(LEASE_TTL_MS + 1_000);
    await fireAlarm(task.id);
    expect(await getTask(task.id)).toMatchObject({ status: "queued", error: { code: "runner_lost" } });
    expect((await deliveries(task.id))[0]!.attempts).toHaveLength(2);
    expect(await received(hook.name)).toHaveLength(2);
    // The queued task's re-offer check (30 s) is now the earliest deadline.
    expect((await alarmAt(task.id))! - Date.now()).toBeLessThanOrEqual(30_000);
  });

  it("makes an attempt again when the edge died during it, marking the lost one interrupted", async () => {
    const pool = uniquePool();
    const hook = await newHook({ default: { status: 500 } });
    const task = await createTask({ pool, callback_url: hook.url });
    const lease = await startRunning(pool);
    await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: sampleResult() });
    await afterAttempts(task.id, 1);

    // The next attempt starts and the edge dies before it finishes: its row is written, no
    // answer is recorded, and the delivery's deadline is the attempt's lease (timeout + margin).
    advanceClock(6_000);
    await runInDurableObject(taskObjectOf(task.id), (_instance, state) => {
      const [due] = dueDeliveries(state.storage.sql, Date.now());
      beginAttempt(state.storage.sql, due!, Date.now(), Date.now() + 31_000);
    });
    const stuck = (await deliveries(task.id))[0]!;
    expect(stuck.attempts[1]).toMatchObject({ attempt: 2, outcome: null, status: null });

    await fetch(hook.url.replace("/hook/", "/control/"), { method: "PUT", body: JSON.stringify({ default: { status: 200 } }) });
    advanceClock(31_000);
    await fireAlarm(task.id);
    const recovered = await waitFor(
      () => deliveries(task.id),
      (l) => l[0]!.status === "delivered",
    );
    expect(recovered[0]!.attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, "retry"],
      [2, "interrupted"],
      [3, "delivered"],
    ]);
    expect(recovered[0]!.attempts[1]!.error).toMatch(/restarted/);
    expect((await received(hook.name)).map((r) => r.answeredWith)).toEqual([200]);
  });
});
