/**
 * Sections 3, 3b and 4 of `npm run bench`: what a WebSocket watcher of a running task sees —
 * how soon each line the CLI writes reaches it (with 1 watcher, with 100, and with 1,000 on one
 * task), and how many bytes/s of one task's output it receives, checking that every byte
 * arrived in order.
 *
 * Watchers are plain `ws` clients without compression. For the latency figures each message is
 * only searched for the lines' send times (in the output events' text), not parsed, so 1,000
 * watchers in this one process cost little beside the edge they measure. Messages are read
 * with `streamFrameEvents`, which takes an older edge's one-event frames too, so the same bench
 * measures before and after a change of the stream's framing.
 * @module
 */
import WebSocket from "ws";
import { type StreamEvent, streamFrameEvents } from "#api/stream-events.js";
import { isTerminal } from "#api/task.js";
import type { ApiClient } from "../client/api-client.js";
import { ms, printTable, summarize } from "./stats.js";

/** What the task of section 4 writes to stdout. */
export const THROUGHPUT_BYTES = 32 * 1_048_576;

/** A line's send time, as it appears JSON-escaped inside an output event's text in a message. */
const SENT_AT = /sent_at_ms\\":(\d+)/g;

/** Watchers opened at once while connecting many, so as not to flood wrangler dev's proxy with upgrades. */
const CONNECT_WAVE = 100;

/** A watcher's messages as they arrive; `ended` once it has seen the task's final status. */
type OnMessage = (text: string, receivedAt: number) => void;

/** Whether a message carries the task's final status (parsed only when it may). */
function endsTask(text: string): boolean {
  return text.includes('"type":"status"') && streamFrameEvents(text).some((e) => e.type === "status" && isTerminal(e.status));
}

/** Watchers whose socket closed before they saw the task end, by close code: a lost stream. */
const dropped = new Map<number, number>();

/** Takes the count of dropped watchers since the last call, as text for a table. */
function takeDropped(): string {
  const text = [...dropped].map(([code, n]) => `${n} (close ${code})`).join(", ") || "0";
  dropped.clear();
  return text;
}

/**
 * Opens one watcher; `connected` resolves once the upgrade is done, `done` once it has seen the
 * final status (or closed: counted in `dropped`). `terminate` ends it early.
 */
function openWatcher(client: ApiClient, taskId: string, onMessage: OnMessage): { connected: Promise<void>; done: Promise<void>; terminate(): void } {
  const ws = new WebSocket(client.streamUrl(taskId, 0), { headers: client.authHeaders, perMessageDeflate: false });
  const connected = new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  let ended = false;
  const done = new Promise<void>((resolve, reject) => {
    ws.on("message", (data) => {
      const text = String(data);
      onMessage(text, Date.now());
      // The final status is the last event; don't wait for wrangler dev's proxy to close TCP.
      if (endsTask(text)) {
        ended = true;
        ws.terminate();
        resolve();
      }
    });
    ws.on("close", (code) => {
      if (!ended) dropped.set(code, (dropped.get(code) ?? 0) + 1);
      ended = true;
      resolve();
    });
    ws.on("error", reject);
  });
  return {
    connected,
    done,
    terminate: () => {
      ended = true;
      ws.terminate();
    },
  };
}

function printLatency(title: string, samples: number[], expected: number): void {
  const s = summarize(samples);
  console.log(title);
  printTable([
    ["lines received", "p50", "p90", "p99", "max", "watchers dropped"],
    [`${s.count} of ${expected}`, ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max), takeDropped()],
  ]);
}

/** Starts a runner serving only `pool`; the section stops it when done. */
export type PoolRunner = (pool: string) => { stop(): Promise<void> };

/**
 * Sections 3 and 3b: line latency with `watchers` watchers on one task. Every watcher connects
 * before the task is leased — it is in a pool of its own, whose runner starts once the last
 * watcher is in — so every line reaches every watcher live, never through the replay on
 * connect (connecting 100 watchers takes longer than the first lines). Bounded: after
 * `timeoutMs` the watchers are closed and what arrived is reported.
 */
export async function lineLatency(
  client: ApiClient,
  repoUrl: string,
  options: { label: string; watchers: number; tickMs: number; startRunner: PoolRunner; timeoutMs?: number },
): Promise<void> {
  const { watchers, tickMs } = options;
  const lines = Math.round(3_000 / tickMs) + 20;
  const pool = `bench-stream-${options.label}-${watchers}-${tickMs}`;
  const task = await client.createTask({
    repo: { url: repoUrl },
    prompt: `latency [demo:tick=${tickMs}][demo:lines=${lines}]`,
    cli: "demo",
    pool,
    timeout_seconds: 120,
  });
  const samples: number[] = [];
  let messages = 0;
  const onMessage: OnMessage = (text, receivedAt) => {
    messages++;
    for (const match of text.matchAll(SENT_AT)) samples.push(receivedAt - Number(match[1]));
  };
  const opened: ReturnType<typeof openWatcher>[] = [];
  const connectStarted = performance.now();
  for (let i = 0; i < watchers; i += CONNECT_WAVE) {
    const wave = Array.from({ length: Math.min(CONNECT_WAVE, watchers - i) }, () => openWatcher(client, task.id, onMessage));
    opened.push(...wave);
    await Promise.all(wave.map((w) => w.connected));
  }
  const connectSeconds = (performance.now() - connectStarted) / 1_000;
  const runner = options.startRunner(pool);
  const timeoutMs = options.timeoutMs ?? 120_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
  const late = await Promise.race([Promise.all(opened.map((w) => w.done)).then(() => false), timedOut]);
  clearTimeout(timer);
  for (const w of opened) w.terminate();
  await runner.stop();
  printLatency(
    `${options.label}. Line latency, CLI write → WebSocket watcher, one line every ${tickMs} ms, ${watchers} watcher(s) on one task`,
    samples,
    lines * watchers,
  );
  console.log(
    `   watchers connected in ${connectSeconds.toFixed(1)} s, before the task started; ${messages} messages received${late ? `; stopped after ${timeoutMs / 1_000} s` : ""}`,
  );
  console.log("   target p50 ≤ 25 ms; 100 watchers at 50 lines/s: p50 ≤ 50 ms, p99 ≤ 300 ms\n");
}

export async function outputThroughput(client: ApiClient, repoUrl: string): Promise<void> {
  const task = await client.createTask({ repo: { url: repoUrl }, prompt: `flood [demo:bytes=${THROUGHPUT_BYTES}]`, cli: "demo", timeout_seconds: 300 });
  let bytes = 0;
  let expectedOffset = 0;
  let inOrder = true;
  let first = 0;
  let last = 0;
  const onEvent = (event: StreamEvent, receivedAt: number) => {
    if (event.type !== "output" || event.stream !== "stdout") return;
    if (event.offset !== expectedOffset) inOrder = false;
    const size = Buffer.byteLength(event.text);
    expectedOffset = event.offset + size;
    bytes += size;
    first ||= receivedAt;
    last = receivedAt;
  };
  await openWatcher(client, task.id, (text, receivedAt) => {
    for (const event of streamFrameEvents(text)) onEvent(event, receivedAt);
  }).done;
  const seconds = (last - first) / 1000;
  const done = await client.getTask(task.id);
  console.log(`4. Throughput of one task writing ${THROUGHPUT_BYTES / 1_048_576} MiB to stdout, seen by one watcher`);
  printTable([
    ["received", "complete", "in order", "seconds", "MB/s"],
    [`${bytes} B`, String(bytes === THROUGHPUT_BYTES), String(inOrder), seconds.toFixed(2), (bytes / 1e6 / seconds).toFixed(1)],
  ]);
  console.log(`   task ${done.status}; target ≥ 5 MB/s with nothing lost\n`);
}
