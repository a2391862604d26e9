/**
 * A client of `GET /api/v1/tasks/:id/stream`: opens the WebSocket through the real Worker,
 * collects every message (a frame: a JSON array of events) and the events they carry, and
 * resolves when the server closes the socket.
 * @module
 */
import { expect } from "vitest";
import type { StreamEvent } from "#api/stream-events.js";
import { apiFetch } from "./api-client.js";

export interface StreamWatcher {
  /** Every event received so far, in the order the frames carried them. */
  readonly events: StreamEvent[];
  /** Every message received so far, parsed: each should be an array of events (a frame). */
  readonly messages: unknown[];
  /** Resolves with the close the server sent. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Resolves once an event with `seq >= seq` has arrived (rejects after `timeoutMs`). */
  waitForSeq(seq: number, timeoutMs?: number): Promise<void>;
  close(): void;
}

export async function openStream(taskId: string, since?: number): Promise<StreamWatcher> {
  const query = since === undefined ? "" : `?since=${since}`;
  const res = await apiFetch(`/api/v1/tasks/${taskId}/stream${query}`, { headers: { upgrade: "websocket" } });
  expect(res.status, res.status === 101 ? "" : await res.text()).toBe(101);
  const ws = res.webSocket;
  if (!ws) throw new Error("101 without a WebSocket");

  const events: StreamEvent[] = [];
  const messages: unknown[] = [];
  const listeners = new Set<() => void>();
  ws.addEventListener("message", (event) => {
    const message: unknown = JSON.parse(event.data as string);
    messages.push(message);
    // Only arrays carry events: a frame in any other shape leaves `events` short, and the test fails.
    if (Array.isArray(message)) events.push(...(message as StreamEvent[]));
    for (const listener of listeners) listener();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason }));
  });
  ws.accept();

  return {
    events,
    messages,
    closed,
    waitForSeq(seq, timeoutMs = 5_000) {
      const reached = () => events.some((e) => e.seq >= seq);
      if (reached()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no frame with seq >= ${seq} within ${timeoutMs} ms (got ${events.map((e) => e.seq).join(",")})`));
        }, timeoutMs);
        const check = () => {
          if (!reached()) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
      });
    },
    close() {
      ws.close(1000, "done");
    },
  };
}

/** Resolves with `promise`, or rejects after `ms`: a hung close is a failure, not a hang. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms))]);
}
