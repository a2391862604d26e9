/**
 * Integration: how the live stream frames its events. Everything a task appends in one turn (a
 * runner's batch; a result with the final status) reaches each watcher as one WebSocket
 * message, a JSON array of the events in `seq` order, the same for every watcher; `?since=N`
 * in the middle of a batch resumes with exactly the rest; a long replay is cut into bounded
 * frames. Unit: `packFrames` keeps every event once, in order, within the bounds.
 */
import { describe, expect, it } from "vitest";
import { STREAM_FRAME_MAX_EVENTS } from "#api/limits.js";
import type { RunnerEvent, StreamEvent } from "#api/stream-events.js";
import { packFrames } from "../../edge/src/task/stream-frames.js";
import { allEvents, createTask, uniquePool } from "./api-client.js";
import { complete, outputEvents, postEvents, sampleResult, startRunning } from "./runner-client.js";
import { openStream, within } from "./stream-watcher.js";

const seqs = (events: { seq: number }[]) => events.map((e) => e.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("stream frames", () => {
  it("sends a batch appended together as one frame, the same to every watcher, each event with its own seq", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const a = await openStream(task.id);
    const b = await openStream(task.id);
    const lease = await startRunning(pool); // 1 queued, 2 leased, 3 running
    await Promise.all([a.waitForSeq(3), b.waitForSeq(3)]);
    const [aBefore, bBefore] = [a.messages.length, b.messages.length];

    const batch = outputEvents(20, "batch");
    expect((await postEvents(task.id, lease.lease_id, 1, batch)).status).toBe(200); // 4..23
    await Promise.all([a.waitForSeq(23), b.waitForSeq(23)]);
    expect(a.messages.slice(aBefore)).toHaveLength(1);
    const frame = a.messages.at(-1) as StreamEvent[];
    expect(seqs(frame)).toEqual(range(4, 23));
    expect(frame.map((e) => (e.type === "output" ? e.text : null))).toEqual(batch.map((e) => (e as Extract<RunnerEvent, { type: "output" }>).text));
    expect(b.messages.slice(bBefore)).toEqual([frame]);

    // The result and the status that ends the task are appended in one turn: one frame, then the close.
    expect((await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 1, result: sampleResult() })).status).toBe(200);
    expect((await within(a.closed, 5_000, "close after the task ended")).code).toBe(1000);
    const last = a.messages.at(-1) as StreamEvent[];
    expect(last.map((e) => [e.seq, e.type])).toEqual([
      [24, "result"],
      [25, "status"],
    ]);
    expect(last[1]).toMatchObject({ status: "succeeded" });
    // Nothing lost, nothing twice, nothing but arrays of events.
    expect(a.messages.every((m) => Array.isArray(m) && m.length > 0)).toBe(true);
    expect(a.events).toEqual(await allEvents(task.id));
  });

  it("resumes in the middle of a batch with exactly the rest of it, then the live tail", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool);
    expect((await postEvents(task.id, lease.lease_id, 1, outputEvents(20, "first"))).status).toBe(200); // 4..23

    const watcher = await openStream(task.id, 11);
    await watcher.waitForSeq(23);
    expect(seqs(watcher.events)).toEqual(range(12, 23));
    expect((await postEvents(task.id, lease.lease_id, 2, outputEvents(5, "second"))).status).toBe(200); // 24..28
    await watcher.waitForSeq(28);
    expect(seqs(watcher.messages.at(-1) as StreamEvent[])).toEqual(range(24, 28));

    await complete(task.id, lease.lease_id, { outcome: "failed", last_batch_seq: 2 });
    await within(watcher.closed, 5_000, "close after the task ended");
    expect(watcher.events).toEqual((await allEvents(task.id)).slice(11));
  });

  it(`cuts the replay of a long log into frames of at most ${STREAM_FRAME_MAX_EVENTS} events`, async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool);
    // 34 batches of 32 one-character chunks: 1,088 events, within the tests' 64 KiB output cap.
    let offset = 0;
    for (let n = 1; n <= 34; n++) {
      const events = Array.from({ length: 32 }, (): RunnerEvent => ({ type: "output", stream: "stdout", text: "x", offset: offset++ }));
      expect((await postEvents(task.id, lease.lease_id, n, events)).status).toBe(200);
    }
    await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 34, result: sampleResult() });
    const logged = await allEvents(task.id);
    expect(logged.length).toBe(3 + 34 * 32 + 2);

    const watcher = await openStream(task.id, 0);
    await within(watcher.closed, 5_000, "close of an ended task's stream");
    expect((watcher.messages as StreamEvent[][]).map((m) => m.length)).toEqual([STREAM_FRAME_MAX_EVENTS, logged.length - STREAM_FRAME_MAX_EVENTS]);
    expect(watcher.events).toEqual(logged);
  });
});

describe("packFrames", () => {
  const bounds = { maxEvents: 3, maxChars: 24 };
  const unpack = (frames: string[]) => frames.flatMap((f) => JSON.parse(f) as unknown[]);

  it("keeps every event once, in order, within the event and size bounds", () => {
    const events = Array.from({ length: 8 }, (_, i) => `{"seq":${i + 1}}`); // 9 characters each
    const frames = [...packFrames(events, bounds)];
    // Two events and a comma in brackets make 21 characters; a third would make 31.
    expect(frames).toEqual(['[{"seq":1},{"seq":2}]', '[{"seq":3},{"seq":4}]', '[{"seq":5},{"seq":6}]', '[{"seq":7},{"seq":8}]']);
    expect(unpack(frames)).toEqual(events.map((e) => JSON.parse(e)));
    const short = [...packFrames(["1", "2", "3", "4", "5", "6", "7"], bounds)];
    expect(short).toEqual(["[1,2,3]", "[4,5,6]", "[7]"]);
  });

  it("sends an event larger than a frame in a frame of its own, and no empty frame", () => {
    const big = `{"text":"${"y".repeat(40)}"}`;
    expect([...packFrames(["1", big, "2"], bounds)]).toEqual(["[1]", `[${big}]`, "[2]"]);
    expect([...packFrames([], bounds)]).toEqual([]);
  });
});
