/**
 * Integration: `POST /api/v1/tasks/:id/cancel`. A queued task ends at once and leaves its
 * dispatcher's queue; a running one is told through its heartbeat and event acks and ends
 * when the runner confirms, or when the cancel grace runs out.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { EventBatchAck, HeartbeatAck } from "#api/runner-protocol.js";
import { insertEntry } from "../../edge/src/dispatcher/queue-store.js";
import { allEvents, apiFetch, cancelTask, createTask, dispatcherOf, expectError, getTask, statusHistory, uniquePool } from "./api-client.js";
import { advanceClock, fireAlarm } from "./clock.js";
import { complete, heartbeat, outputEvents, postEvents, requestLease, startRunning, takeLease } from "./runner-client.js";

/** 2 × HEARTBEAT_INTERVAL_SECONDS (2 s) + 15 s: how long the edge waits for a runner to confirm. */
const CANCEL_GRACE_MS = 19_000;

describe("cancel", () => {
  it("ends a queued task at once and takes it off the queue", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    expect((await dispatcherOf(pool).stats()).queued).toBe(1);

    const { status, task: canceled } = await cancelTask(task.id);
    expect(status).toBe(200);
    expect(canceled).toMatchObject({ status: "canceled", error: { code: "canceled" }, attempt: 0 });
    expect(canceled.finished_at).not.toBeNull();

    expect((await dispatcherOf(pool).stats()).queued).toBe(0);
    expect((await requestLease({ pool })).status).toBe(204);
    expect(await statusHistory(task.id)).toEqual(["queued", "canceled"]);
  });

  it("never leases a canceled task, even when a stale queue entry still names it", async () => {
    const pool = uniquePool();
    const canceledTask = await createTask({ pool, priority: 9 });
    await cancelTask(canceledTask.id);
    // The queue is an index, not the truth: put the canceled task back as if its removal had failed.
    await runInDurableObject(dispatcherOf(pool), (_instance, state) => {
      insertEntry(state.storage.sql, { taskId: canceledTask.id, priority: 9, cli: "demo", labels: [], pool: "default" });
    });
    const runnable = await createTask({ pool, priority: 1 });

    const lease = await takeLease({ pool });
    expect(lease.task_id).toBe(runnable.id);
    expect((await requestLease({ pool, wait_ms: 200 })).status).toBe(204);
    expect((await getTask(canceledTask.id)).status).toBe("canceled");
    expect((await dispatcherOf(pool).stats()).queued).toBe(0);
  });

  it("tells a running task's runner through heartbeat and event acks, then records its canceled outcome", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool);

    const { status, task: requested } = await cancelTask(task.id);
    expect(status).toBe(202);
    expect(requested).toMatchObject({ status: "running", cancel_requested: true });

    const hb = await heartbeat(task.id, lease.lease_id);
    expect(HeartbeatAck.parse(await hb.json()).cancel_requested).toBe(true);
    const ack = await postEvents(task.id, lease.lease_id, 1, outputEvents(1, "stopping"));
    expect(EventBatchAck.parse(await ack.json())).toEqual({ stored: true, last_batch_seq: 1, cancel_requested: true });

    // Asking again changes nothing and logs nothing new.
    const again = await cancelTask(task.id);
    expect(again.status).toBe(202);
    expect(again.task.last_seq).toBe((await getTask(task.id)).last_seq);

    const done = await complete(task.id, lease.lease_id, { outcome: "canceled", last_batch_seq: 1 });
    expect(await done.json()).toEqual({ status: "canceled" });
    expect(await getTask(task.id)).toMatchObject({ status: "canceled", error: { code: "canceled" } });

    const events = await allEvents(task.id);
    expect(events.filter((e) => e.type === "log").map((e) => e.type === "log" && e.message)).toEqual([
      "cancel requested; waiting for the runner to stop the CLI",
    ]);
    expect(await statusHistory(task.id)).toEqual(["queued", "leased", "running", "canceled"]);
  });

  it("ends the task itself when the runner never confirms within the grace period", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool);
    await cancelTask(task.id);

    advanceClock(CANCEL_GRACE_MS - 2_000);
    expect((await heartbeat(task.id, lease.lease_id)).status).toBe(200); // still alive, never stops
    await fireAlarm(task.id);
    expect((await getTask(task.id)).status).toBe("running");

    advanceClock(3_000);
    await fireAlarm(task.id);
    expect(await getTask(task.id)).toMatchObject({ status: "canceled", error: { code: "canceled" } });
    const late = await heartbeat(task.id, lease.lease_id);
    await expectError(late, 409, "lease_stale");
  });

  it("refuses to cancel an ended task with 409 and an unknown one with 404", async () => {
    const task = await createTask({ pool: uniquePool() });
    await cancelTask(task.id);
    await expectError(await apiFetch(`/api/v1/tasks/${task.id}/cancel`, { method: "POST" }), 409, "invalid_state");
    await expectError(await apiFetch("/api/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa/cancel", { method: "POST" }), 404, "not_found");
  });
});
