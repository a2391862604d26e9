/**
 * Section 3c of `npm run bench`: the same task watched over both transports at once — one
 * WebSocket watcher and one Server-Sent Events watcher, connected before the task starts — and
 * how soon each line the CLI writes reaches each of them. The lines carry their send time
 * (`[demo:tick]`), so both are measured from the same write, on the same task, in the same run.
 * @module
 */
import WebSocket from "ws";
import type { ApiClient } from "../client/api-client.js";
import { ms, printTable, summarize } from "./stats.js";
import type { PoolRunner } from "./stream-figures.js";

/** A line's send time, as it appears JSON-escaped inside an event's text. */
const SENT_AT = /sent_at_ms\\":(\d+)/g;
/** The final status, as it appears in the events' JSON. */
const FINAL_STATUS = /"type":"status","status":"(succeeded|failed|timed_out|canceled)"/;

interface Arrivals {
  /** Latency of each line, by its send time (ms). */
  latencies: number[];
  done: Promise<void>;
}

function record(text: string, receivedAt: number, latencies: number[]): void {
  for (const match of text.matchAll(SENT_AT)) latencies.push(receivedAt - Number(match[1]));
}

function watchWebSocket(client: ApiClient, taskId: string): { connected: Promise<void> } & Arrivals {
  const latencies: number[] = [];
  const ws = new WebSocket(client.streamUrl(taskId, 0), { headers: client.authHeaders, perMessageDeflate: false });
  const connected = new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const done = new Promise<void>((resolve) => {
    ws.on("message", (data) => {
      const text = String(data);
      record(text, Date.now(), latencies);
      if (FINAL_STATUS.test(text)) {
        ws.terminate();
        resolve();
      }
    });
    ws.on("close", () => resolve());
  });
  return { connected, latencies, done };
}

async function watchSse(client: ApiClient, url: string): Promise<Arrivals> {
  const latencies: number[] = [];
  const controller = new AbortController();
  const response = await fetch(url, { headers: { ...client.authHeaders, accept: "text/event-stream" }, signal: controller.signal });
  if (response.status !== 200) throw new Error(`SSE answered ${response.status}`);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let pending = "";
  const done = (async () => {
    for (;;) {
      const { done: ended, value } = await reader.read();
      if (ended) return;
      // Only whole events: a chunk may end inside one.
      pending += value;
      const end = pending.lastIndexOf("\n\n");
      if (end < 0) continue;
      const whole = pending.slice(0, end);
      pending = pending.slice(end + 2);
      record(whole, Date.now(), latencies);
      if (FINAL_STATUS.test(whole)) {
        controller.abort();
        return;
      }
    }
  })().catch(() => {
    // Aborted by us after the final status: every line has been counted.
  });
  return { latencies, done };
}

/** One line every `tickMs` for about `seconds`; both watchers on the one task. */
export async function sseVsWebSocket(
  client: ApiClient,
  repoUrl: string,
  options: { label: string; tickMs: number; seconds?: number; startRunner: PoolRunner },
): Promise<void> {
  const lines = Math.round(((options.seconds ?? 6) * 1_000) / options.tickMs);
  const pool = `bench-sse-${options.label}-${options.tickMs}`;
  const task = await client.createTask({
    repo: { url: repoUrl },
    prompt: `sse [demo:tick=${options.tickMs}][demo:lines=${lines}]`,
    cli: "demo",
    pool,
    timeout_seconds: 120,
  });
  const ws = watchWebSocket(client, task.id);
  await ws.connected;
  const sse = await watchSse(client, `${client.baseUrl}/api/v1/tasks/${task.id}/stream`);
  const runner = options.startRunner(pool);
  await Promise.all([ws.done, sse.done]);
  await runner.stop();
  const row = (name: string, samples: number[]) => {
    const s = summarize(samples);
    return [name, `${s.count} of ${lines}`, ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max)];
  };
  console.log(`${options.label}. Line latency, CLI write → watcher, one line every ${options.tickMs} ms, a WebSocket and an SSE watcher on the same task`);
  printTable([["transport", "lines received", "p50", "p90", "p99", "max"], row("WebSocket", ws.latencies), row("Server-Sent Events", sse.latencies)]);
  console.log("");
}
