/**
 * Integration: the retry schedule on the task object's alarm, against a real receiver. Time is
 * moved (fake `Date`) and the alarm fired, as if the wait had passed; the schedule is the
 * default one (immediately, 5 s, 5 min, 30 min, … ±10% jitter). Only 2xx delivers; 410 stops;
 * redirects are not followed; `Retry-After` pushes the next attempt later; a slow receiver
 * times out.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createTask, getTask, taskObjectOf, uniquePool } from "../edge/api-client.js";
import { advanceClock, fireAlarm } from "../edge/clock.js";
import { complete, sampleResult, startRunning } from "../edge/runner-client.js";
import type { Script } from "../support/webhook-receiver-protocol.js";
import { afterAttempts, newHook, received, waitFor } from "./receiver-client.js";

/** A task with a callback to a hook scripted as `script`, run to success; returns its id and hook. */
async function succeededTaskWithHook(script: Script): Promise<{ taskId: string; hook: { name: string; url: string } }> {
  const pool = uniquePool();
  const hook = await newHook(script);
  const task = await createTask({ pool, callback_url: hook.url });
  const lease = await startRunning(pool);
  expect((await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: sampleResult() })).status).toBe(200);
  return { taskId: task.id, hook };
}

const JITTER = 1.1;
const RETENTION_MS = 30 * 86_400_000;

/** Nothing left to deliver: the task's one alarm is its deletion, 30 days after it ended (once the attempt's metrics are sent). */
async function expectOnlyDeletionAlarm(taskId: string): Promise<void> {
  const deletion = Date.parse((await getTask(taskId)).finished_at!) + RETENTION_MS;
  const alarmAt = () => runInDurableObject(taskObjectOf(taskId), (_instance, state) => state.storage.getAlarm());
  expect(await waitFor(alarmAt, (at) => at === deletion)).toBe(deletion);
}

describe("webhook retries", () => {
  it("retries a failing receiver on the schedule and delivers exactly once when it recovers", async () => {
    const { taskId, hook } = await succeededTaskWithHook({ responses: [{ status: 500, body: "boom" }, { status: 502 }] });

    const first = await afterAttempts(taskId, 1);
    expect(first.status).toBe("pending");
    expect(first.attempts[0]).toMatchObject({ attempt: 1, status: 500, outcome: "retry", error: "receiver answered 500", response_excerpt: "boom" });
    // The next attempt is due about 5 s later (±10%), not sooner.
    const wait = Date.parse(first.next_attempt_at!) - Date.parse(first.attempts[0]!.started_at);
    expect(wait).toBeGreaterThanOrEqual(4_400);
    expect(wait).toBeLessThanOrEqual(5_600);

    advanceClock(5_000 * JITTER);
    await fireAlarm(taskId);
    const second = await afterAttempts(taskId, 2);
    expect(second.attempts[1]).toMatchObject({ attempt: 2, status: 502, outcome: "retry" });
    const wait2 = Date.parse(second.next_attempt_at!) - Date.parse(second.attempts[1]!.started_at);
    expect(wait2).toBeGreaterThanOrEqual(270_000);
    expect(wait2).toBeLessThanOrEqual(330_000);

    // Firing early changes nothing: the attempt is not due yet.
    await fireAlarm(taskId);
    expect((await afterAttempts(taskId, 2)).attempts).toHaveLength(2);

    advanceClock(300_000 * JITTER);
    await fireAlarm(taskId);
    const done = await afterAttempts(taskId, 3);
    expect(done).toMatchObject({ status: "delivered", next_attempt_at: null });
    expect(done.attempts.map((a) => [a.status, a.outcome])).toEqual([
      [500, "retry"],
      [502, "retry"],
      [200, "delivered"],
    ]);
    for (const a of done.attempts) expect(a.latency_ms).toBeGreaterThanOrEqual(0);

    const requests = await received(hook.name);
    expect(requests.map((r) => r.answeredWith)).toEqual([500, 502, 200]);
    expect(new Set(requests.map((r) => r.headers["webhook-id"]))).toEqual(new Set([done.id]));
    // Each attempt is signed at its own time, so receivers' replay windows hold on retries.
    expect(Number(requests[2]!.headers["webhook-timestamp"])).toBeGreaterThan(Number(requests[0]!.headers["webhook-timestamp"]) + 300);
    await expectOnlyDeletionAlarm(taskId);
  });

  it("stops at 410 Gone and records it", async () => {
    const { taskId, hook } = await succeededTaskWithHook({ default: { status: 410, body: "endpoint retired" } });
    const delivery = await afterAttempts(taskId, 1);
    expect(delivery).toMatchObject({ status: "gone", next_attempt_at: null });
    expect(delivery.attempts).toEqual([expect.objectContaining({ status: 410, outcome: "gone", error: expect.stringContaining("410 Gone") })]);
    await expectOnlyDeletionAlarm(taskId);
    advanceClock(86_400_000);
    expect(await received(hook.name)).toHaveLength(1);
  });

  it("does not follow redirects: a 3xx is a failed attempt, and the Location gets nothing", async () => {
    const elsewhere = await newHook();
    const { taskId, hook } = await succeededTaskWithHook({ responses: [{ status: 307, headers: { location: elsewhere.url } }] });
    const delivery = await afterAttempts(taskId, 1);
    expect(delivery.status).toBe("pending");
    expect(delivery.attempts[0]).toMatchObject({ status: 307, outcome: "retry", error: expect.stringMatching(/redirect 307 not followed/) });
    expect(await received(elsewhere.name)).toEqual([]);
    expect(await received(hook.name)).toHaveLength(1);
  });

  it("honours Retry-After: the next attempt waits at least as long as the receiver asked", async () => {
    const { taskId } = await succeededTaskWithHook({ responses: [{ status: 503, headers: { "retry-after": "900" } }] });
    const delivery = await afterAttempts(taskId, 1);
    const wait = Date.parse(delivery.next_attempt_at!) - Date.parse(delivery.attempts[0]!.started_at);
    expect(wait).toBeGreaterThanOrEqual(900_000);
    expect(wait).toBeLessThan(900_000 + 5_000);
    advanceClock(6_000);
    await fireAlarm(taskId);
    expect((await afterAttempts(taskId, 1)).attempts).toHaveLength(1);
    advanceClock(900_000);
    await fireAlarm(taskId);
    expect(await afterAttempts(taskId, 2)).toMatchObject({ status: "delivered" });
  });

  it("gives up on an attempt after the time limit (1 s in this suite) and retries", async () => {
    const { taskId } = await succeededTaskWithHook({ responses: [{ status: 200, delayMs: 3_000 }] });
    const delivery = await afterAttempts(taskId, 1);
    expect(delivery.attempts[0]).toMatchObject({ status: null, outcome: "retry", error: "no response within 1000 ms" });
    expect(delivery.status).toBe("pending");
  });

  it("records a receiver that cannot be reached", async () => {
    const pool = uniquePool();
    // A closed port on loopback: the connection is refused.
    const task = await createTask({ pool, callback_url: "http://127.0.0.1:9/hook" });
    const lease = await startRunning(pool);
    await complete(task.id, lease.lease_id, { outcome: "failed", last_batch_seq: 0, error: { code: "cli_failed", message: "exit 1" } });
    const delivery = await afterAttempts(task.id, 1);
    expect(delivery).toMatchObject({ event_type: "task.failed", status: "pending" });
    expect(delivery.attempts[0]).toMatchObject({ status: null, outcome: "retry", error: expect.stringMatching(/^request failed: /) });
  });
});
