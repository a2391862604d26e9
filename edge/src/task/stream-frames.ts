/**
 * Packs a task's wire events into WebSocket frames: each frame is a JSON array of events, built
 * by joining their stored JSON texts, so nothing is parsed or serialised again. A frame ends
 * before it would pass `STREAM_FRAME_MAX_EVENTS` events or `STREAM_FRAME_MAX_CHARS` characters;
 * an event larger than that alone goes in a frame of its own.
 * @module
 */
import { STREAM_FRAME_MAX_CHARS, STREAM_FRAME_MAX_EVENTS } from "#api/limits.js";

/** Bounds of one frame; the defaults are the contract's, tests pass smaller ones. */
export interface FrameBounds {
  maxEvents: number;
  maxChars: number;
}

const CONTRACT_BOUNDS: FrameBounds = { maxEvents: STREAM_FRAME_MAX_EVENTS, maxChars: STREAM_FRAME_MAX_CHARS };

/** Yields frames holding `events` (wire JSON texts, in order), every one once, in order. */
export function* packFrames(events: Iterable<string>, bounds: FrameBounds = CONTRACT_BOUNDS): Generator<string> {
  let batch: string[] = [];
  // The brackets and the commas between events count towards the frame's size.
  let chars = 2;
  for (const event of events) {
    if (batch.length > 0 && (batch.length >= bounds.maxEvents || chars + 1 + event.length > bounds.maxChars)) {
      yield `[${batch.join(",")}]`;
      batch = [];
      chars = 2;
    }
    chars += (batch.length > 0 ? 1 : 0) + event.length;
    batch.push(event);
  }
  if (batch.length > 0) yield `[${batch.join(",")}]`;
}
