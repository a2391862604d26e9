/**
 * End to end: a task's live stream as Server-Sent Events, read by the `eventsource` package (the
 * WHATWG `EventSource` for Node) from the edge under `wrangler dev`, while a real runner runs the
 * demo CLI. The connection is cut mid-task; `EventSource` reconnects by itself with
 * `Last-Event-ID` and must get every event once, in order. When the task has ended the stream
 * ends, and the reconnect that follows is answered 204, which stops `EventSource` for good.
 */
import { EventSource, type EventSourceFetchInit } from "eventsource";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventBody, type StreamEvent } from "#api/stream-events.js";
import { startStack, type Stack } from "./local-stack.js";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ vars: { STREAM_SSE_HEARTBEAT_SECONDS: "1" } });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

/** Every `event:` name the stream uses: the events' types. */
const EVENT_TYPES = EventBody.options.map((option) => option.shape.type.value);

interface Attempt {
  status: number;
  lastEventId: string | null;
}

/**
 * An `EventSource` whose fetch adds the API key and can cut the open connection (as a network
 * failure would), recording each connection's status and `Last-Event-ID`.
 */
function watch(url: string, apiKey: string) {
  const attempts: Attempt[] = [];
  const events: StreamEvent[] = [];
  const ids: string[] = [];
  let cutCurrent: (() => void) | null = null;
  const source = new EventSource(url, {
    fetch: async (input: string | URL, init: EventSourceFetchInit) => {
      const headers: Record<string, string> = { ...init.headers, Authorization: `Bearer ${apiKey}` };
      const response = await fetch(input, { ...init, headers });
      attempts.push({ status: response.status, lastEventId: headers["Last-Event-ID"] ?? null });
      if (!response.body) return response;
      // Pass the body through a stream the test can fail, as a dropped connection would.
      const upstream = response.body.getReader();
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          cutCurrent = () => {
            controller.error(new Error("connection cut by the test"));
            void upstream.cancel();
          };
        },
        async pull(controller) {
          const { done, value } = await upstream.read();
          if (done) controller.close();
          else controller.enqueue(value);
        },
        cancel: () => upstream.cancel(),
      });
      return new Response(body, { status: response.status, headers: response.headers });
    },
  });
  for (const type of EVENT_TYPES) {
    source.addEventListener(type, (message) => {
      ids.push(message.lastEventId);
      events.push(JSON.parse(message.data) as StreamEvent);
    });
  }
  const closed = new Promise<void>((resolve) => {
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED) resolve();
    });
  });
  const until = (reached: () => boolean, what: string, timeoutMs = 30_000) =>
    new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        if (reached()) {
          clearInterval(poll);
          resolve();
        } else if (Date.now() - started > timeoutMs) {
          clearInterval(poll);
          reject(new Error(`${what} did not happen within ${timeoutMs} ms (events ${events.map((e) => e.seq).join(",")})`));
        }
      }, 10);
    });
  return { source, attempts, events, ids, closed, until, cut: () => cutCurrent?.() };
}

describe("Server-Sent Events against the real edge and runner", () => {
  it("streams a running task, resumes after a cut with Last-Event-ID with no gap and no duplicate, and stops at the end", async () => {
    const task = await stack.client.createTask({ repo: { url: stack.repoUrl }, prompt: "Stream me [demo:tick=100][demo:lines=40]", cli: "demo" });
    const url = `${stack.edgeUrl}/api/v1/tasks/${task.id}/stream`;
    const watcher = watch(url, stack.adminKey);

    // Some of the CLI's lines have arrived live: cut the connection mid-task.
    await watcher.until(() => watcher.events.filter((e) => e.type === "agent" && e.kind === "text").length >= 5, "five text lines");
    const seenBeforeCut = watcher.events.length;
    const lastBeforeCut = watcher.ids.at(-1)!;
    watcher.cut();

    await watcher.until(() => watcher.attempts.length >= 2, "the reconnect");
    await Promise.race([watcher.closed, new Promise((_, reject) => setTimeout(() => reject(new Error("the stream did not end within 60 s")), 60_000))]);

    // The reconnect carried the last id seen, and went on right after it.
    expect(watcher.attempts[0]).toEqual({ status: 200, lastEventId: null });
    expect(watcher.attempts[1]).toEqual({ status: 200, lastEventId: lastBeforeCut });
    // Once the task ended the stream closed; the reconnect after it was a 204, and no more came.
    expect(watcher.attempts.at(-1)).toEqual({ status: 204, lastEventId: watcher.ids.at(-1) });
    expect(watcher.attempts).toHaveLength(3);
    expect(watcher.events.length).toBeGreaterThan(seenBeforeCut);

    // Every event of the log, once, in order, each with its seq as its id.
    const logged = (await stack.client.events(task.id, { since: 0, limit: 1_000 })).events;
    expect(watcher.events.map((e) => e.seq)).toEqual(logged.map((e) => e.seq));
    expect(watcher.events).toEqual(logged);
    expect(watcher.ids).toEqual(logged.map((e) => String(e.seq)));
    expect(watcher.events.at(-1)).toMatchObject({ type: "status", status: "succeeded" });
    expect(watcher.events.filter((e) => e.type === "agent" && e.kind === "text").length).toBeGreaterThanOrEqual(40);
  }, 120_000);

  it("sends heartbeats while a task waits, and answers 426 and 400 as documented", async () => {
    // A task in a pool no runner serves stays queued: its stream is idle after the first event.
    const task = await stack.client.createTask({ repo: { url: stack.repoUrl }, prompt: "Wait", cli: "demo", pool: "nobody-serves-this" });
    const url = `${stack.edgeUrl}/api/v1/tasks/${task.id}/stream`;
    const controller = new AbortController();
    const response = await fetch(url, { headers: { ...stack.client.authHeaders, accept: "text/event-stream" }, signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const started = Date.now();
    while ((text.match(/^: heartbeat$/gm) ?? []).length < 2 && Date.now() - started < 10_000) text += (await reader.read()).value ?? "";
    controller.abort();
    expect(text).toMatch(/^id: 1\nevent: status\ndata: \{"seq":1,/);
    expect((text.match(/^: heartbeat$/gm) ?? []).length).toBeGreaterThanOrEqual(2);

    const plain = await fetch(url, { headers: stack.client.authHeaders });
    expect(plain.status).toBe(426);
    const bad = await fetch(url, { headers: { ...stack.client.authHeaders, accept: "text/event-stream", "last-event-id": "seven" } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe("Last-Event-ID");
  }, 60_000);
});
