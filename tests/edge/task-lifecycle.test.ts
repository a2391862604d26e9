/**
 * Integration: a task's whole life through the public and runner APIs —
 * queued → leased → running → succeeded (or failed), as a client reads it.
 */
import { describe, expect, it } from "vitest";
import { EventBatchAck, HeartbeatAck } from "#api/runner-protocol.js";
import { Task } from "#api/task.js";
import { allEvents, apiFetch, createTask, getTask, statusHistory, taskSpec, uniquePool } from "./api-client.js";
import { complete, heartbeat, outputEvents, postEvents, sampleResult, takeLease } from "./runner-client.js";

describe("task lifecycle", () => {
  it("creates a queued task with defaults applied and a Location header", async () => {
    const pool = uniquePool();
    const res = await apiFetch("/api/v1/tasks", { json: taskSpec({ pool, metadata: { ticket: "T-1" } }) });
    expect(res.status).toBe(201);
    const task = Task.parse(await res.json());
    expect(res.headers.get("location")).toBe(`/api/v1/tasks/${task.id}`);
    expect(task).toMatchObject({
      status: "queued",
      repo: { url: "file:///srv/repos/demo.git", ref: "main" },
      cli: "demo",
      model: null,
      timeout_seconds: 1_800,
      priority: 5,
      pool,
      labels: [],
      max_attempts: 3,
      autonomy: "full",
      egress_allow: null,
      metadata: { ticket: "T-1" },
      attempt: 0,
      runner_id: null,
      cancel_requested: false,
      started_at: null,
      finished_at: null,
      result: null,
      error: null,
      last_seq: 1,
    });
    expect(task.id).toMatch(/^tsk_[0-9a-z]{26}$/);
    expect(await getTask(task.id)).toEqual(task);
  });

  it("runs to succeeded: lease, heartbeat, output, result", async () => {
    const pool = uniquePool();
    const created = await createTask({ pool, timeout_seconds: 600 });

    const lease = await takeLease({ pool, runner_id: "runner-a" });
    expect(lease).toMatchObject({
      task_id: created.id,
      attempt: 1,
      heartbeat_interval_ms: 2_000,
      task: {
        repo: { url: "file:///srv/repos/demo.git", ref: "main" },
        prompt: "Add a README",
        cli: "demo",
        model: null,
        timeout_seconds: 600,
        autonomy: "full",
        egress_allow: null,
      },
    });
    expect(Date.parse(lease.lease_expires_at) - Date.now()).toBeGreaterThan(25_000);
    expect(await getTask(created.id)).toMatchObject({ status: "leased", attempt: 1, runner_id: "runner-a", started_at: null });

    const preparing = await heartbeat(created.id, lease.lease_id, "preparing");
    expect(preparing.status).toBe(200);
    expect(HeartbeatAck.parse(await preparing.json()).cancel_requested).toBe(false);
    expect((await getTask(created.id)).status).toBe("leased");

    const running = await heartbeat(created.id, lease.lease_id, "running");
    expect(running.status).toBe(200);
    const runningTask = await getTask(created.id);
    expect(runningTask.status).toBe("running");
    expect(runningTask.started_at).not.toBeNull();

    const ack = await postEvents(created.id, lease.lease_id, 1, outputEvents(2));
    expect(EventBatchAck.parse(await ack.json())).toEqual({ stored: true, last_batch_seq: 1, cancel_requested: false });

    const done = await complete(created.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 1, result: sampleResult() });
    expect(done.status).toBe(200);
    expect(await done.json()).toEqual({ status: "succeeded" });

    const finished = await getTask(created.id);
    expect(finished).toMatchObject({ status: "succeeded", error: null, result: sampleResult(), attempt: 1, runner_id: "runner-a" });
    expect(finished.finished_at).not.toBeNull();

    const events = await allEvents(created.id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.map((e) => (e.type === "status" ? `status:${e.status}` : e.type))).toEqual([
      "status:queued",
      "status:leased",
      "status:running",
      "output",
      "output",
      "result",
      "status:succeeded",
    ]);
    expect(finished.last_seq).toBe(events.length);
  });

  it("records a failed run with the runner's error, or a default one", async () => {
    const pool = uniquePool();
    const first = await createTask({ pool });
    const second = await createTask({ pool });

    const a = await takeLease({ pool });
    await complete(a.task_id, a.lease_id, { outcome: "failed", last_batch_seq: 0, error: { code: "clone_failed", message: "repository not found" } });
    const b = await takeLease({ pool });
    await complete(b.task_id, b.lease_id, { outcome: "failed", last_batch_seq: 0 });

    expect(await getTask(first.id)).toMatchObject({ status: "failed", error: { code: "clone_failed", message: "repository not found" } });
    expect(await getTask(second.id)).toMatchObject({ status: "failed", error: { code: "cli_failed" } });
    expect(await statusHistory(first.id)).toEqual(["queued", "leased", "failed"]);
  });

  it("never lets a second completion change a finished task", async () => {
    const pool = uniquePool();
    await createTask({ pool });
    const lease = await takeLease({ pool });
    expect((await complete(lease.task_id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: sampleResult() })).status).toBe(200);
    // The same lease again (a retry whose answer was lost) hears how the task ended.
    const again = await complete(lease.task_id, lease.lease_id, { outcome: "failed", last_batch_seq: 0 });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ status: "succeeded" });
    expect((await getTask(lease.task_id)).status).toBe("succeeded");
  });
});
