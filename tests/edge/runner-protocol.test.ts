/**
 * Integration: the runner's writes after a lease — event batches, heartbeats, completion —
 * are idempotent, ordered and fenced by the lease; the task's output is capped with one
 * visible truncation marker.
 */
import { describe, expect, it } from "vitest";
import { EventBatchAck } from "#api/runner-protocol.js";
import type { RunnerEvent } from "#api/stream-events.js";
import { allEvents, createTask, expectError, getTask, uniquePool } from "./api-client.js";
import { advanceClock, fireAlarm } from "./clock.js";
import { TEST_OUTPUT_MAX_BYTES } from "./credentials.js";
import { complete, heartbeat, outputEvents, postEvents, runnerPost, sampleResult, startRunning, takeLease } from "./runner-client.js";

const outputTexts = async (taskId: string) => (await allEvents(taskId)).flatMap((e) => (e.type === "output" ? [e.text] : []));

describe("runner protocol", () => {
  it("stores a batch posted twice only once", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool);

    const first = await postEvents(task.id, lease.lease_id, 1, outputEvents(2, "a"));
    expect(EventBatchAck.parse(await first.json())).toMatchObject({ stored: true, last_batch_seq: 1 });
    const retry = await postEvents(task.id, lease.lease_id, 1, outputEvents(2, "a"));
    expect(retry.status).toBe(200);
    expect(EventBatchAck.parse(await retry.json())).toMatchObject({ stored: false, last_batch_seq: 1 });
    await postEvents(task.id, lease.lease_id, 2, outputEvents(1, "b"));
    const oldRetry = await postEvents(task.id, lease.lease_id, 1, outputEvents(2, "a"));
    expect(EventBatchAck.parse(await oldRetry.json())).toMatchObject({ stored: false, last_batch_seq: 2 });

    expect(await outputTexts(task.id)).toEqual(["a 1\n", "a 2\n", "b 1\n"]);
  });

  it("refuses a batch that skips one with 409 sequence_gap and stores nothing", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool);
    await postEvents(task.id, lease.lease_id, 1, outputEvents(1));
    const before = (await getTask(task.id)).last_seq;

    const body = await expectError(await postEvents(task.id, lease.lease_id, 3, outputEvents(1, "third")), 409, "sequence_gap");
    expect(body.error.message).toContain("expected batch_seq 2");
    expect((await getTask(task.id)).last_seq).toBe(before);
    // The runner resends the missing batch and goes on.
    expect((await postEvents(task.id, lease.lease_id, 2, outputEvents(1, "second"))).status).toBe(200);
    expect((await postEvents(task.id, lease.lease_id, 3, outputEvents(1, "third"))).status).toBe(200);
    expect(await outputTexts(task.id)).toEqual(["line 1\n", "second 1\n", "third 1\n"]);
  });

  it("refuses to complete while batches are missing", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool);
    await postEvents(task.id, lease.lease_id, 1, outputEvents(1));

    await expectError(await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 3, result: sampleResult() }), 409, "sequence_gap");
    expect((await getTask(task.id)).status).toBe("running");
    expect((await getTask(task.id)).result).toBeNull();

    await postEvents(task.id, lease.lease_id, 2, outputEvents(1));
    await postEvents(task.id, lease.lease_id, 3, outputEvents(1));
    expect((await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 3, result: sampleResult() })).status).toBe(200);
    expect((await getTask(task.id)).status).toBe("succeeded");
  });

  it("answers a retried completion (its answer was lost) with the same status and stores nothing twice", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool);
    const first = await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: sampleResult() });
    expect(first.status).toBe(200);
    const seqAfterFirst = (await getTask(task.id)).last_seq;

    const retry = await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: sampleResult() });
    expect(retry.status).toBe(200);
    expect(await retry.json()).toEqual({ status: "succeeded" });
    expect((await getTask(task.id)).last_seq).toBe(seqAfterFirst);
  });

  it("refuses every write with a lease that lapsed and was re-granted: 409 lease_stale", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const old = await startRunning(pool, "runner-old");
    await postEvents(task.id, old.lease_id, 1, outputEvents(1, "old"));

    advanceClock(31_000);
    await fireAlarm(task.id);
    // Before anyone else leases it, the old lease is already dead.
    await expectError(await heartbeat(task.id, old.lease_id), 409, "lease_stale");
    const current = await takeLease({ pool, runner_id: "runner-new" });

    await expectError(await heartbeat(task.id, old.lease_id), 409, "lease_stale");
    await expectError(await postEvents(task.id, old.lease_id, 2, outputEvents(1, "old")), 409, "lease_stale");
    await expectError(await postEvents(task.id, old.lease_id, 1, outputEvents(1, "old")), 409, "lease_stale");
    await expectError(await complete(task.id, old.lease_id, { outcome: "failed", last_batch_seq: 1 }), 409, "lease_stale");
    await expectError(await heartbeat(task.id, "lse_madeupmadeupmadeupmadeupmadeupma"), 409, "lease_stale");

    expect(await getTask(task.id)).toMatchObject({ status: "leased", runner_id: "runner-new", attempt: 2 });
    expect((await heartbeat(task.id, current.lease_id)).status).toBe(200);
    expect(await outputTexts(task.id)).toEqual(["old 1\n"]);
  });

  it("answers 404 for writes about a task that does not exist", async () => {
    const id = "tsk_0000000000aaaaaaaaaaaaaaaa";
    await expectError(await heartbeat(id, "lse_x"), 404, "not_found");
    await expectError(await postEvents(id, "lse_x", 1, outputEvents(1)), 404, "not_found");
    await expectError(await runnerPost("/runner/v1/tasks/not-a-task/heartbeat", { lease_id: "lse_x", phase: "running" }), 404, "not_found");
  });

  it("refuses a batch with an unknown event type or an oversized chunk, naming the field", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool);
    const bad = { lease_id: lease.lease_id, batch_seq: 1, events: [{ type: "shell", command: "rm -rf /" }] };
    await expectError(await runnerPost(`/runner/v1/tasks/${task.id}/events`, bad), 400, "validation_failed", "events.0.type");
    const huge: RunnerEvent = { type: "output", stream: "stdout", text: "x".repeat(16_385), offset: 0 };
    await expectError(await postEvents(task.id, lease.lease_id, 1, [huge]), 400, "validation_failed", "events.0.text");
    expect(await outputTexts(task.id)).toEqual([]);
  });

  it("caps a task's output and writes exactly one truncated marker", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool);
    const chunk = (n: number, offset: number): RunnerEvent => ({ type: "output", stream: "stdout", text: `${n}`.padEnd(16_000, "."), offset });

    // 4 chunks of ~16 KB fit under 64 KiB; the 5th does not.
    const batch1 = [0, 1, 2, 3, 4, 5].map((n) => chunk(n, n * 16_000));
    const ack1 = EventBatchAck.parse(await (await postEvents(task.id, lease.lease_id, 1, batch1)).json());
    expect(ack1).toMatchObject({ stored: true, last_batch_seq: 1 });
    const ack2 = EventBatchAck.parse(await (await postEvents(task.id, lease.lease_id, 2, [chunk(6, 96_000), chunk(7, 112_000)])).json());
    expect(ack2).toMatchObject({ stored: true, last_batch_seq: 2 });
    await postEvents(task.id, lease.lease_id, 3, outputEvents(1, "tiny"));

    const events = await allEvents(task.id);
    const markers = events.filter((e) => e.type === "truncated");
    expect(markers).toEqual([expect.objectContaining({ type: "truncated", limit_bytes: TEST_OUTPUT_MAX_BYTES })]);
    const outputs = events.filter((e) => e.type === "output");
    expect(outputs.map((e) => (e.type === "output" ? e.text[0] : ""))).toEqual(["0", "1", "2", "3"]);
    // The marker comes right after the last stored chunk, and nothing follows it but status changes.
    const markerIndex = events.indexOf(markers[0]!);
    expect(events[markerIndex - 1]).toBe(outputs.at(-1));
    const stored = outputs.reduce((n, e) => n + JSON.stringify({ ...e, seq: undefined, ts: undefined, attempt: undefined }).length, 0);
    expect(stored).toBeLessThanOrEqual(TEST_OUTPUT_MAX_BYTES);

    expect((await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 3, result: sampleResult() })).status).toBe(200);
    const after = await allEvents(task.id);
    expect(after.filter((e) => e.type === "truncated")).toHaveLength(1);
    expect(after.slice(markerIndex + 1).map((e) => e.type)).toEqual(["result", "status"]);
  });
});
