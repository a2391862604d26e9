/**
 * The per-task output cap: which runner events of a batch are stored, and where the single
 * truncation marker goes once the cap is reached.
 *
 * Usage is counted over the serialized events (in UTF-16 code units, which is bytes for ASCII
 * and never more than 3x off), so the cap bounds what the object keeps and replays, whatever
 * mix of raw output and parsed events the runner sends, without encoding every event twice.
 * @module
 */
import type { RunnerEvent, TruncatedEvent } from "#api/stream-events.js";

export interface OutputUsage {
  bytes: number;
  truncated: boolean;
}

/** Serializes the events that fit and, once, a marker for those that did not. */
export function admitEvents(events: readonly RunnerEvent[], usage: OutputUsage, capBytes: number): { bodies: string[]; usage: OutputUsage } {
  const bodies: string[] = [];
  let { bytes, truncated } = usage;
  for (const event of events) {
    if (truncated) break;
    const body = JSON.stringify(event);
    if (bytes + body.length > capBytes) {
      truncated = true;
      const marker: TruncatedEvent = { type: "truncated", limit_bytes: capBytes };
      bodies.push(JSON.stringify(marker));
      break;
    }
    bytes += body.length;
    bodies.push(body);
  }
  return { bodies, usage: { bytes, truncated } };
}
