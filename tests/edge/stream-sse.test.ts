/**
 * Integration: the live stream as Server-Sent Events (`GET /api/v1/tasks/:id/stream` with
 * `Accept: text/event-stream`), through the real Worker and task object. Each event's `id` is
 * its `seq`; `Last-Event-ID` (or `?since=`) resumes exactly after it; the stream ends after an
 * ended task's last event; heartbeats come while it is idle (every 0.5 s in this project).
 */
import { describe, expect, it } from "vitest";
import { allEvents, apiFetch, createTask, expectError, uniquePool } from "./api-client.js";
import { complete, outputEvents, postEvents, sampleResult, startRunning } from "./runner-client.js";
import { openSse, requestSse } from "./sse-watcher.js";
import { openStream, within } from "./stream-watcher.js";

const seqs = (events: { seq: number }[]) => events.map((e) => e.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("stream as Server-Sent Events", () => {
  it("replays the log, follows the live tail in order, and ends after the task's last event", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool); // 1 queued, 2 leased, 3 running
    expect((await postEvents(task.id, lease.lease_id, 1, outputEvents(3, "early"))).status).toBe(200); // 4..6

    const watcher = await openSse(task.id);
    expect(watcher.response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(watcher.response.headers.get("cache-control")).toBe("no-store");
    expect(watcher.response.headers.get("x-accel-buffering")).toBe("no");
    expect(watcher.response.headers.get("x-request-id")).toBeTruthy();
    await watcher.waitForSeq(6);
    expect(seqs(watcher.events)).toEqual(range(1, 6));

    for (let batch = 2; batch <= 4; batch++) {
      expect((await postEvents(task.id, lease.lease_id, batch, outputEvents(4, `b${batch}`))).status).toBe(200);
    }
    await watcher.waitForSeq(18);
    expect((await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 4, result: sampleResult() })).status).toBe(200);
    await within(watcher.ended, 5_000, "the end of the stream after the task ended");

    const logged = await allEvents(task.id);
    expect(logged.length).toBe(20);
    // Exactly the log, once each, in order; the last two are the result and the final status.
    expect(watcher.events).toEqual(logged);
    expect(watcher.events.slice(-2).map((e) => e.type)).toEqual(["result", "status"]);
    expect(watcher.events.at(-1)).toMatchObject({ type: "status", status: "succeeded" });
    // Each event's id is its seq and its event name its type.
    expect(watcher.messages.map((m) => m.id)).toEqual(logged.map((e) => String(e.seq)));
    expect(watcher.messages.map((m) => m.event)).toEqual(logged.map((e) => e.type));
  });

  it("resumes after Last-Event-ID with no gap and no duplicate, over ?since", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool);
    expect((await postEvents(task.id, lease.lease_id, 1, outputEvents(4, "a"))).status).toBe(200); // 4..7

    const first = await openSse(task.id);
    await first.waitForSeq(7);
    await first.cancel();
    const lastId = first.messages.at(-1)!.id!;
    expect(lastId).toBe("7");

    // Missed while away.
    expect((await postEvents(task.id, lease.lease_id, 2, outputEvents(3, "b"))).status).toBe(200); // 8..10
    // The header wins over a `since` left in the URL (an EventSource reconnects to the same URL).
    const second = await openSse(task.id, { since: 0, lastEventId: lastId });
    await second.waitForSeq(10);
    expect((await postEvents(task.id, lease.lease_id, 3, outputEvents(2, "c"))).status).toBe(200); // 11, 12
    expect((await complete(task.id, lease.lease_id, { outcome: "failed", last_batch_seq: 3 })).status).toBe(200); // 13
    await within(second.ended, 5_000, "the end of the resumed stream");

    expect(seqs(second.events)).toEqual(range(8, 13));
    expect([...first.events, ...second.events]).toEqual(await allEvents(task.id));

    // `?since=` alone resumes the same way.
    const bySince = await openSse(task.id, { since: 11 });
    await within(bySince.ended, 5_000, "the end of an ended task's stream");
    expect(seqs(bySince.events)).toEqual([12, 13]);
  });

  it("gets the same events as a WebSocket watcher of the same task, every SSE watcher alike", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const socket = await openStream(task.id);
    const sse = await openSse(task.id);
    const other = await openSse(task.id);
    const lease = await startRunning(pool);
    for (let batch = 1; batch <= 5; batch++) {
      expect((await postEvents(task.id, lease.lease_id, batch, outputEvents(4, `b${batch}`))).status).toBe(200);
    }
    await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 5, result: sampleResult() });
    await within(Promise.all([socket.closed, sse.ended, other.ended]), 5_000, "every end");
    expect(sse.events).toEqual(socket.events);
    // The same bytes are written to every SSE watcher: each must still read them whole.
    expect(other.messages).toEqual(sse.messages);
    expect(seqs(sse.events)).toEqual(range(1, 25));
  });

  it("replays a log longer than one page in order", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool);
    // Over 1,000 events (one replay page) before this suite's small output cap adds its marker.
    for (let batch = 1; batch <= 40; batch++) {
      expect((await postEvents(task.id, lease.lease_id, batch, outputEvents(30, `p${batch}`))).status).toBe(200);
    }
    const logged = await allEvents(task.id);
    expect(logged.length).toBeGreaterThan(1_000);
    const watcher = await openSse(task.id);
    await watcher.waitForSeq(logged.length, 10_000);
    expect(watcher.events).toEqual(logged);
    await complete(task.id, lease.lease_id, { outcome: "failed", last_batch_seq: 40 });
    await within(watcher.ended, 5_000, "the end after the replay");
    expect(seqs(watcher.events)).toEqual(range(1, logged.length + 1));
  });

  it("sends heartbeat comments while the task is quiet", async () => {
    const task = await createTask({ pool: uniquePool() });
    const watcher = await openSse(task.id);
    await watcher.waitForSeq(1);
    await watcher.waitForComments(2, 5_000);
    expect(watcher.comments.slice(0, 2)).toEqual(["heartbeat", "heartbeat"]);
    expect(seqs(watcher.events)).toEqual([1]);
    await watcher.cancel();
  });

  it("answers an ended task with nothing after Last-Event-ID with 204, so EventSource stops", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool);
    await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: sampleResult() });
    const last = (await allEvents(task.id)).at(-1)!.seq;
    const done = await requestSse(task.id, { lastEventId: String(last) });
    expect(done.status).toBe(204);
    expect(await done.text()).toBe("");
    const full = await openSse(task.id);
    await within(full.ended, 5_000, "the end of an ended task's replay");
    expect(seqs(full.events)).toEqual(range(1, last));
  });

  it("refuses what is not a stream request, a bad Last-Event-ID, an unknown task and no key", async () => {
    const task = await createTask({ pool: uniquePool() });
    const refused = await apiFetch(`/api/v1/tasks/${task.id}/stream`, { headers: { accept: "application/json" } });
    expect(refused.headers.get("upgrade")).toBe("websocket");
    const body = await expectError(refused, 426, "upgrade_required");
    expect(body.error.message).toContain("text/event-stream");
    for (const bad of ["abc", "-1", "1.5", "", "1e3", "99999999999999999999"]) {
      await expectError(await requestSse(task.id, { lastEventId: bad }), 400, "validation_failed", "Last-Event-ID");
    }
    await expectError(await requestSse(task.id, { since: -1 }), 400, "validation_failed", "since");
    await expectError(await requestSse("tsk_0000000000aaaaaaaaaaaaaaaa"), 404, "not_found");
    await expectError(await apiFetch(`/api/v1/tasks/${task.id}/stream`, { headers: { accept: "text/event-stream" }, key: null }), 401, "unauthorized");
  });
});
