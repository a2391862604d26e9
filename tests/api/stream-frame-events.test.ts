/**
 * Unit: `streamFrameEvents`, how every client of the stream reads a WebSocket message — the
 * events of a frame (a JSON array) in order, an older edge's single event, and nothing from the
 * edge's answer to a client that wrote to the stream.
 */
import { describe, expect, it } from "vitest";
import { StreamFrame, streamFrameEvents } from "#api/stream-events.js";

const status = (seq: number, value: string) => ({
  seq,
  ts: "2026-01-01T00:00:00.000Z",
  iteration: 1,
  attempt: 1,
  type: "status",
  status: value,
  runner_id: null,
  error: null,
});
const output = (seq: number, text: string) => ({
  seq,
  ts: "2026-01-01T00:00:00.000Z",
  iteration: 1,
  attempt: 1,
  type: "output",
  stream: "stdout",
  text,
  offset: 0,
});

describe("streamFrameEvents", () => {
  it("reads every event of a frame, in the frame's order", () => {
    const frame = [output(4, "a\n"), output(5, "b\n"), status(6, "succeeded")];
    expect(StreamFrame.safeParse(frame).success).toBe(true);
    expect(streamFrameEvents(JSON.stringify(frame))).toEqual(frame);
  });

  it("reads an older edge's message of one event as a frame of one", () => {
    expect(streamFrameEvents(JSON.stringify(status(1, "queued")))).toEqual([status(1, "queued")]);
  });

  it("finds no event in a message that is not one", () => {
    expect(streamFrameEvents(JSON.stringify({ type: "error", message: "this stream is read-only" }))).toEqual([]);
    expect(streamFrameEvents("null")).toEqual([]);
    expect(StreamFrame.safeParse([]).success).toBe(false);
  });
});
