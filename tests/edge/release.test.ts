/**
 * Integration: `POST /runner/v1/tasks/:id/release`. A runner that shuts down hands its task
 * back: it is queued again at once (a waiting runner gets it within milliseconds), the attempt
 * does not count against `max_attempts`, and the releasing runner is locked out.
 */
import { describe, expect, it } from "vitest";
import { ReleaseAck } from "#api/runner-protocol.js";
import { allEvents, cancelTask, createTask, expectError, getTask, statusHistory, uniquePool } from "./api-client.js";
import { advanceClock, fireAlarm } from "./clock.js";
import { complete, heartbeat, outputEvents, postEvents, requestLease, runnerPost, sampleResult, startRunning, takeLease } from "./runner-client.js";

function release(taskId: string, leaseId: string, reason = "runner shutting down"): Promise<Response> {
  return runnerPost(`/runner/v1/tasks/${taskId}/release`, { lease_id: leaseId, reason });
}

describe("release", () => {
  it("re-queues the task at once for another runner, saying why, and locks the releasing runner out", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const first = await startRunning(pool, "runner-leaving");
    expect((await postEvents(task.id, first.lease_id, 1, outputEvents(1))).status).toBe(200);

    // Another runner is already waiting in a long poll: the released task reaches it directly.
    const waiting = requestLease({ pool, runner_id: "runner-staying", wait_ms: 10_000 });
    await new Promise((r) => setTimeout(r, 50));
    const startedAt = Date.now();
    const res = await release(task.id, first.lease_id);
    expect(res.status).toBe(200);
    expect(ReleaseAck.parse(await res.json())).toEqual({ status: "queued" });

    const handed = await waiting;
    expect(handed.status).toBe(200);
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    const second = (await handed.json()) as { task_id: string; lease_id: string; attempt: number };
    expect(second).toMatchObject({ task_id: task.id, attempt: 2 });

    const events = await allEvents(task.id);
    const requeued = events.find((e) => e.type === "status" && e.status === "queued" && e.attempt === 1);
    expect(requeued).toMatchObject({ runner_id: null, error: null });
    expect(requeued && "reason" in requeued && requeued.reason).toBe(
      "runner runner-leaving handed the task back (runner shutting down); re-queued without counting attempt 1",
    );

    // Everything the releasing runner sends afterwards is refused.
    await expectError(await heartbeat(task.id, first.lease_id), 409, "lease_stale");
    await expectError(await postEvents(task.id, first.lease_id, 2, outputEvents(1)), 409, "lease_stale");
    await expectError(await complete(task.id, first.lease_id, { outcome: "succeeded", last_batch_seq: 1 }), 409, "lease_stale");
    await expectError(await release(task.id, first.lease_id), 409, "lease_stale");

    expect((await complete(task.id, second.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: sampleResult() })).status).toBe(200);
    expect(await statusHistory(task.id)).toEqual(["queued", "leased", "running", "queued", "leased", "succeeded"]);
  });

  it("does not count the released attempt against max_attempts", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool, max_attempts: 2 });
    const first = await takeLease({ pool });
    expect((await release(task.id, first.lease_id)).status).toBe(200);

    // Attempt 2 is lost: with one attempt spent by the release it would now fail; it is retried.
    await takeLease({ pool });
    advanceClock(31_000);
    await fireAlarm(task.id);
    expect(await getTask(task.id)).toMatchObject({ status: "queued", attempt: 2, max_attempts: 2 });

    // Attempt 3 is the second counted one: losing it fails the task.
    await takeLease({ pool });
    advanceClock(31_000);
    await fireAlarm(task.id);
    expect(await getTask(task.id)).toMatchObject({ status: "failed", attempt: 3, error: { code: "runner_lost" } });
  });

  it("ends a task whose cancel was pending instead of re-queuing it", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool);
    await cancelTask(task.id);
    const res = await release(task.id, lease.lease_id);
    expect(await res.json()).toEqual({ status: "canceled" });
    expect((await getTask(task.id)).status).toBe("canceled");
    expect((await requestLease({ pool })).status).toBe(204);
  });

  it("refuses an unsigned release, a lease that was never granted and an unknown task", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    await takeLease({ pool });
    await expectError(await release(task.id, "lse_forged"), 409, "lease_stale");
    await expectError(
      await runnerPost(`/runner/v1/tasks/${task.id}/release`, { lease_id: "x", reason: "r" }, { secret: "not-a-runner-secret-0123456789" }),
      401,
      "unauthorized",
    );
    await expectError(await release("tsk_0000000000aaaaaaaaaaaaaaaa", "lse_x"), 404, "not_found");
    expect((await getTask(task.id)).status).toBe("leased");
  });
});
