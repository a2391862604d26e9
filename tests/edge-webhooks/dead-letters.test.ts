/**
 * Integration: a receiver that always fails uses up the whole default schedule (10 attempts
 * over about three days), the delivery becomes a dead letter listed to admins, and a
 * redelivery replays it — same webhook-id, new attempt series — and withdraws the dead letter.
 */
import { describe, expect, it } from "vitest";
import { DeadLetterList } from "#api/webhooks.js";
import { apiFetch, cancelTask, createTask, expectError, uniquePool } from "../edge/api-client.js";
import { advanceClock, fireAlarm } from "../edge/clock.js";
import { afterAttempts, deliveries, newHook, received, waitFor } from "./receiver-client.js";

const SCHEDULE_SECONDS = [0, 5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400];

async function deadLetterList(): Promise<DeadLetterList> {
  const res = await apiFetch("/api/v1/dead-letters?limit=500");
  expect(res.status).toBe(200);
  return DeadLetterList.parse(await res.json());
}

describe("dead letters and redelivery", () => {
  it("turns a delivery that exhausts its schedule into a dead letter, and redelivery replays it", async () => {
    const hook = await newHook({ default: { status: 500, body: "down" } });
    const task = await createTask({ pool: uniquePool(), callback_url: hook.url });
    // Canceling a queued task ends it at once: task.canceled is due.
    await cancelTask(task.id);

    await afterAttempts(task.id, 1);
    for (let n = 2; n <= SCHEDULE_SECONDS.length; n++) {
      advanceClock(SCHEDULE_SECONDS[n - 1]! * 1_000 * 1.1);
      await fireAlarm(task.id);
      await afterAttempts(task.id, n);
    }
    const [dead] = await deliveries(task.id);
    expect(dead).toMatchObject({ event_type: "task.canceled", status: "failed", next_attempt_at: null });
    expect(dead!.attempts).toHaveLength(10);
    expect(dead!.attempts.at(-1)).toMatchObject({ attempt: 10, status: 500, outcome: "failed" });
    expect(await received(hook.name)).toHaveLength(10);

    // The object reports to the index from its alarm.
    const listed = await waitFor(deadLetterList, (l) => l.dead_letters.some((d) => d.delivery_id === dead!.id));
    expect(listed.dead_letters.find((d) => d.delivery_id === dead!.id)).toMatchObject({
      task_id: task.id,
      owner: "admin",
      event_type: "task.canceled",
      url: hook.url,
      attempts: 10,
      last_status: 500,
      last_error: "receiver answered 500",
      links: { deliveries: `/api/v1/tasks/${task.id}/deliveries`, redeliver: `/api/v1/tasks/${task.id}/deliveries/${dead!.id}/redeliver` },
    });

    // The receiver is fixed; the client replays the delivery.
    await fetch(hook.url.replace("/hook/", "/control/"), { method: "PUT", body: JSON.stringify({ default: { status: 204 } }) });
    const res = await apiFetch(`/api/v1/tasks/${task.id}/deliveries/${dead!.id}/redeliver`, { method: "POST" });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ id: dead!.id, status: "pending", series: 2 });
    // Due at once by the object's clock (moved three days on here): fire the alarm it set.
    await fireAlarm(task.id);
    const delivered = await waitFor(
      () => deliveries(task.id),
      (l) => l[0]!.status === "delivered",
    );
    expect(delivered[0]!.attempts.filter((a) => a.series === 2)).toEqual([expect.objectContaining({ attempt: 1, status: 204, outcome: "delivered" })]);
    const replay = await received(hook.name);
    expect(replay).toHaveLength(1);
    expect(replay[0]!.headers["webhook-id"]).toBe(dead!.id);
    // …and the dead letter is withdrawn.
    await waitFor(deadLetterList, (l) => !l.dead_letters.some((d) => d.delivery_id === dead!.id));
  });

  it("pages dead letters and refuses bad queries", async () => {
    const page = await apiFetch("/api/v1/dead-letters?limit=1");
    expect(page.status).toBe(200);
    await expectError(await apiFetch("/api/v1/dead-letters?limit=0"), 400, "validation_failed", "limit");
    await expectError(await apiFetch("/api/v1/dead-letters", { method: "POST", json: {} }), 405, "method_not_allowed");
  });

  it("answers 404 for an unknown delivery and for another task's", async () => {
    const task = await createTask({ pool: uniquePool() });
    await expectError(await apiFetch(`/api/v1/tasks/${task.id}/deliveries/msg_01m83y4f39jm8qj0snr5pz3q5b/redeliver`, { method: "POST" }), 404, "not_found");
    await expectError(await apiFetch(`/api/v1/tasks/${task.id}/deliveries/not-an-id/redeliver`, { method: "POST" }), 404, "not_found");
    await expectError(await apiFetch(`/api/v1/tasks/${task.id}/deliveries/msg_01m83y4f39jm8qj0snr5pz3q5b/redeliver`), 405, "method_not_allowed");
    expect(await deliveries(task.id)).toEqual([]);
  });
});
