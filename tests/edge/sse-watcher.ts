/**
 * A client of `GET /api/v1/tasks/:id/stream` as Server-Sent Events: opens the stream through the
 * real Worker, reads the body as it arrives and parses it the way an `EventSource` does (events
 * end at a blank line; `id`, `event` and `data` fields; comment lines counted apart).
 * @module
 */
import { expect } from "vitest";
import type { StreamEvent } from "#api/stream-events.js";
import { apiFetch } from "./api-client.js";

/** One SSE event as it came over the wire. */
export interface SseMessage {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

export interface SseWatcher {
  readonly response: Response;
  /** Every event so far, its `data` parsed. */
  readonly events: StreamEvent[];
  /** Every event so far, as its fields came. */
  readonly messages: SseMessage[];
  /** Comment lines received so far (`: heartbeat`). */
  readonly comments: string[];
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  /** Resolves once an event with `seq >= seq` has arrived (rejects after `timeoutMs`). */
  waitForSeq(seq: number, timeoutMs?: number): Promise<void>;
  /** Resolves once `count` comments have arrived (rejects after `timeoutMs`). */
  waitForComments(count: number, timeoutMs?: number): Promise<void>;
  /** Hangs up, as a client closing its connection. */
  cancel(): Promise<void>;
}

/** Sends the stream request; `lastEventId` goes as the `Last-Event-ID` header. */
export function requestSse(taskId: string, options: { since?: number; lastEventId?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  const query = options.since === undefined ? "" : `?since=${options.since}`;
  const headers: Record<string, string> = { accept: "text/event-stream", ...options.headers };
  if (options.lastEventId !== undefined) headers["last-event-id"] = options.lastEventId;
  return apiFetch(`/api/v1/tasks/${taskId}/stream${query}`, { headers });
}

export async function openSse(taskId: string, options: { since?: number; lastEventId?: string; headers?: Record<string, string> } = {}): Promise<SseWatcher> {
  const response = await requestSse(taskId, options);
  expect(response.status, response.status === 200 ? "" : await response.text()).toBe(200);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: StreamEvent[] = [];
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  const listeners = new Set<() => void>();
  let buffer = "";

  const parse = (block: string) => {
    const message: SseMessage = { id: undefined, event: undefined, data: "" };
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) {
        comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") message.id = value;
      else if (field === "event") message.event = value;
      else if (field === "data") data.push(value);
    }
    if (data.length === 0) return;
    message.data = data.join("\n");
    messages.push(message);
    events.push(JSON.parse(message.data) as StreamEvent);
  };

  const ended = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += value;
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        parse(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
      }
      for (const listener of listeners) listener();
    }
  })();

  const waitFor = (reached: () => boolean, what: () => string, timeoutMs: number) => {
    if (reached()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`${what()} within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = () => {
        if (!reached()) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve();
      };
      listeners.add(check);
    });
  };

  return {
    response,
    events,
    messages,
    comments,
    ended,
    waitForSeq: (seq, timeoutMs = 5_000) =>
      waitFor(
        () => events.some((e) => e.seq >= seq),
        () => `no event with seq >= ${seq} (got ${events.map((e) => e.seq).join(",")})`,
        timeoutMs,
      ),
    waitForComments: (count, timeoutMs = 5_000) =>
      waitFor(
        () => comments.length >= count,
        () => `fewer than ${count} comments`,
        timeoutMs,
      ),
    async cancel() {
      await reader.cancel();
    },
  };
}
