/**
 * Integration: the live stream over WebSocket (`GET /api/v1/tasks/:id/stream`). Every frame
 * has a `seq`; `?since=N` replays exactly what was missed, then the live tail, with no gap and
 * no duplicate; a stream of an ended task replays everything and closes with 1000.
 */
import { describe, expect, it } from "vitest";
import { STREAM_CLOSE_TASK_ENDED } from "#api/stream-events.js";
import { allEvents, apiFetch, createTask, expectError, uniquePool } from "./api-client.js";
import { complete, outputEvents, postEvents, sampleResult, startRunning } from "./runner-client.js";
import { openStream, within } from "./stream-watcher.js";

const seqs = (events: { seq: number }[]) => events.map((e) => e.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("stream replay", () => {
  it("replays what a reconnecting watcher missed, then the live tail, then closes with 1000", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool); // seq 1 queued, 2 leased, 3 running
    expect((await postEvents(task.id, lease.lease_id, 1, outputEvents(3, "early"))).status).toBe(200); // 4..6

    const watcher = await openStream(task.id, 4);
    await watcher.waitForSeq(6);
    expect(seqs(watcher.events)).toEqual([5, 6]);

    expect((await postEvents(task.id, lease.lease_id, 2, outputEvents(2, "late"))).status).toBe(200); // 7, 8
    await watcher.waitForSeq(8);
    expect((await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 2, result: sampleResult() })).status).toBe(200); // 9 result, 10 succeeded

    const close = await within(watcher.closed, 5_000, "close after the task ended");
    expect(close.code).toBe(STREAM_CLOSE_TASK_ENDED);
    expect(seqs(watcher.events)).toEqual(range(5, 10));
    const last = watcher.events.at(-1)!;
    expect(last).toMatchObject({ type: "status", status: "succeeded" });
    // What the stream sent is exactly what the log holds.
    expect(watcher.events).toEqual((await allEvents(task.id)).slice(4));
  });

  it("sends every frame to every watcher while the task runs", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const a = await openStream(task.id);
    const b = await openStream(task.id, 1);
    const lease = await startRunning(pool);
    for (let batch = 1; batch <= 5; batch++) {
      expect((await postEvents(task.id, lease.lease_id, batch, outputEvents(4, `b${batch}`))).status).toBe(200);
    }
    await complete(task.id, lease.lease_id, { outcome: "failed", last_batch_seq: 5 });
    await within(Promise.all([a.closed, b.closed]), 5_000, "both closes");
    const total = (await allEvents(task.id)).length;
    expect(total).toBe(3 + 20 + 1);
    expect(seqs(a.events)).toEqual(range(1, total));
    expect(seqs(b.events)).toEqual(range(2, total));
    const outputs = a.events.flatMap((f) => (f.type === "output" ? [f.text] : []));
    expect(outputs[0]).toBe("b1 1\n");
    expect(outputs.at(-1)).toBe("b5 4\n");
    expect(outputs).toHaveLength(20);
  });

  it("keeps streaming to the others when one watcher hangs up", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const leaving = await openStream(task.id);
    const staying = await openStream(task.id);
    const lease = await startRunning(pool);
    await leaving.waitForSeq(3);
    leaving.close();
    await within(leaving.closed, 5_000, "close handshake");

    expect((await postEvents(task.id, lease.lease_id, 1, outputEvents(2))).status).toBe(200);
    expect((await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 1, result: sampleResult() })).status).toBe(200);
    expect((await within(staying.closed, 5_000, "close after the task ended")).code).toBe(1000);
    expect(seqs(staying.events)).toEqual(range(1, 7));
    expect(seqs(leaving.events)).toEqual(range(1, 3));
  });

  it("replays the whole log of an ended task and closes cleanly", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool);
    await postEvents(task.id, lease.lease_id, 1, outputEvents(2));
    await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 1, result: sampleResult() });
    const logged = await allEvents(task.id);

    const full = await openStream(task.id);
    const close = await within(full.closed, 5_000, "close of an ended task's stream");
    expect(close.code).toBe(1000);
    expect(full.events).toEqual(logged);

    const tail = await openStream(task.id, logged.length - 1);
    await within(tail.closed, 5_000, "close of an ended task's stream");
    expect(seqs(tail.events)).toEqual([logged.length]);

    const nothing = await openStream(task.id, logged.length);
    expect((await within(nothing.closed, 5_000, "close with nothing to replay")).code).toBe(1000);
    expect(nothing.events).toEqual([]);
  });

  it("answers 426 without an upgrade, 404 for an unknown task, 400 for a bad since", async () => {
    const task = await createTask({ pool: uniquePool() });
    await expectError(await apiFetch(`/api/v1/tasks/${task.id}/stream`), 426, "upgrade_required");
    await expectError(await apiFetch("/api/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa/stream", { headers: { upgrade: "websocket" } }), 404, "not_found");
    await expectError(await apiFetch(`/api/v1/tasks/${task.id}/stream?since=-1`, { headers: { upgrade: "websocket" } }), 400, "validation_failed", "since");
    await expectError(await apiFetch(`/api/v1/tasks/${task.id}/stream`, { headers: { upgrade: "websocket" }, key: null }), 401, "unauthorized");
  });
});
