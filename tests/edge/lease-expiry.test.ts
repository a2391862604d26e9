/**
 * Integration: lease expiry and attempt timeouts, driven by the task object's alarm. The
 * clock is moved forward (see `clock.ts`) and the alarm fired, as if the time had passed.
 */
import { describe, expect, it } from "vitest";
import { allEvents, createTask, expectError, getTask, statusHistory, uniquePool } from "./api-client.js";
import { advanceClock, fireAlarm } from "./clock.js";
import { complete, heartbeat, outputEvents, postEvents, requestLease, sampleResult, startRunning, takeLease } from "./runner-client.js";

const LEASE_TTL_MS = 30_000;

describe("lease expiry", () => {
  it("re-queues a task whose runner stopped heartbeating, and the next runner gets attempt 2", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const first = await startRunning(pool, "runner-gone");

    advanceClock(LEASE_TTL_MS + 1_000);
    await fireAlarm(task.id);

    const requeued = await getTask(task.id);
    expect(requeued).toMatchObject({ status: "queued", attempt: 1, runner_id: null, error: { code: "runner_lost" } });
    expect(requeued.error!.message).toContain("runner-gone");

    const second = await takeLease({ pool, runner_id: "runner-new" });
    expect(second).toMatchObject({ task_id: task.id, attempt: 2 });
    expect(second.lease_id).not.toBe(first.lease_id);

    // The lost runner comes back: everything it sends is refused, and changes nothing.
    for (const res of [
      await heartbeat(task.id, first.lease_id),
      await postEvents(task.id, first.lease_id, 1, outputEvents(1)),
      await complete(task.id, first.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: sampleResult() }),
    ]) {
      expect(res.status).toBe(409);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("lease_stale");
    }
    expect(await getTask(task.id)).toMatchObject({ status: "leased", attempt: 2, runner_id: "runner-new", error: null });

    // The new holder finishes normally, its batches numbered from 1 again.
    expect((await postEvents(task.id, second.lease_id, 1, outputEvents(1))).status).toBe(200);
    expect((await complete(task.id, second.lease_id, { outcome: "succeeded", last_batch_seq: 1, result: sampleResult() })).status).toBe(200);
    expect(await statusHistory(task.id)).toEqual(["queued", "leased", "running", "queued", "leased", "succeeded"]);
    const attempts = (await allEvents(task.id)).filter((e) => e.type === "output").map((e) => e.attempt);
    expect(attempts).toEqual([2]);
  });

  it("fails the task as runner_lost once max_attempts leases have lapsed", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool, max_attempts: 2 });

    await takeLease({ pool });
    advanceClock(LEASE_TTL_MS + 1_000);
    await fireAlarm(task.id);
    expect((await getTask(task.id)).status).toBe("queued");

    await takeLease({ pool });
    advanceClock(LEASE_TTL_MS + 1_000);
    await fireAlarm(task.id);

    const failed = await getTask(task.id);
    expect(failed).toMatchObject({ status: "failed", attempt: 2, error: { code: "runner_lost" } });
    expect(failed.finished_at).not.toBeNull();
    expect((await requestLease({ pool })).status).toBe(204);
  });

  it("refuses a runner that comes back after its lease expired, even before the alarm re-queued the task", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const frozen = await startRunning(pool, "runner-frozen");

    // The runner was frozen (SIGSTOP, a long GC pause, a cut network) past its lease: the alarm
    // has not run yet, but the lease is over and nothing it sends counts any more.
    advanceClock(LEASE_TTL_MS + 1);
    await expectError(await heartbeat(task.id, frozen.lease_id), 409, "lease_stale");
    await expectError(await complete(task.id, frozen.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: sampleResult() }), 409, "lease_stale");
    await fireAlarm(task.id);
    expect(await getTask(task.id)).toMatchObject({ status: "queued", result: null, error: { code: "runner_lost" } });
  });

  it("keeps a lease alive while the runner heartbeats", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool);

    for (let i = 0; i < 3; i++) {
      advanceClock(LEASE_TTL_MS - 5_000);
      const ack = await heartbeat(task.id, lease.lease_id);
      expect(ack.status).toBe(200);
      const { lease_expires_at } = (await ack.json()) as { lease_expires_at: string };
      expect(Date.parse(lease_expires_at)).toBe(Date.now() + LEASE_TTL_MS);
      await fireAlarm(task.id);
      expect((await getTask(task.id)).status).toBe("running");
    }
  });

  it("ends an attempt as timed_out when the runner never reports past timeout plus grace", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool, timeout_seconds: 10 });
    const lease = await startRunning(pool);

    // The runner heartbeats but never completes; its timeout is 10 s, the edge's grace 30 s more.
    advanceClock(25_000);
    expect((await heartbeat(task.id, lease.lease_id)).status).toBe(200);
    await fireAlarm(task.id);
    expect((await getTask(task.id)).status).toBe("running");

    advanceClock(16_000);
    await fireAlarm(task.id);
    expect(await getTask(task.id)).toMatchObject({ status: "timed_out", error: { code: "timed_out" } });
    expect((await heartbeat(task.id, lease.lease_id)).status).toBe(409);
  });
});
