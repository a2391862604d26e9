/**
 * Server-Sent Events text of a task's wire events: `id:` is the event's `seq` (what a client
 * sends back as `Last-Event-ID`), `event:` its `type`, `data:` the event's JSON exactly as the
 * log pages and WebSocket frames carry it. The wire JSON is read, not parsed: it starts with
 * the envelope the log writes (`event-log.ts`), and JSON text never holds a raw line break, so
 * it is always one `data:` line.
 * @module
 */
import { STREAM_FRAME_MAX_CHARS } from "#api/limits.js";

/** The envelope `event-log.ts` writes, then the body's `type` (first in every body the edge stores). */
const WIRE_PREFIX = /^\{"seq":(\d+),"ts":"[^"]*","iteration":\d+,"attempt":\d+,"type":"([a-z_]+)"/;

/** One event, formatted once, with its seq for the watchers' bookkeeping. */
export interface SseEvent {
  seq: number;
  text: string;
}

/** Formats one wire event as an SSE event (ending with its blank line). */
export function sseEvent(wire: string): SseEvent {
  const match = WIRE_PREFIX.exec(wire);
  // A body stored with its keys in another order: read the two fields the slow way.
  const { seq, type } = match ? { seq: Number(match[1]), type: match[2] } : (JSON.parse(wire) as { seq: number; type: string });
  return { seq, text: `id: ${seq}\nevent: ${type}\ndata: ${wire}\n\n` };
}

/** A comment line: ignored by every SSE client, it keeps an idle connection open through proxies. */
export const SSE_HEARTBEAT = ": heartbeat\n\n";

/**
 * Reads a page of the replay: events after `after`, formatted, until one passes
 * `STREAM_FRAME_MAX_CHARS` characters in all (or the log ends). Empty when nothing is after it.
 */
export function ssePage(events: Iterable<string>): { text: string; lastSeq: number | null } {
  let text = "";
  let lastSeq: number | null = null;
  for (const wire of events) {
    const event = sseEvent(wire);
    text += event.text;
    lastSeq = event.seq;
    if (text.length >= STREAM_FRAME_MAX_CHARS) break;
  }
  return { text, lastSeq };
}
