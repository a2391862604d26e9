/**
 * Sections 3 and 4 of `npm run bench`: what a WebSocket watcher of a running task sees — how
 * soon each line the CLI writes reaches it (with 1 watcher and with 100), and how many bytes/s
 * of one task's output it receives, checking that every byte arrived in order.
 * @module
 */
import WebSocket from "ws";
import type { StreamEvent } from "#api/stream-events.js";
import { isTerminal } from "#api/task.js";
import type { ApiClient } from "../client/api-client.js";
import { ms, printTable, summarize } from "./stats.js";

/** What the task of section 4 writes to stdout. */
export const THROUGHPUT_BYTES = 32 * 1_048_576;

/** Opens `count` watchers on a task; resolves with each one's frames once all have closed. */
function watch(client: ApiClient, taskId: string, count: number, onFrame: (event: StreamEvent, receivedAt: number) => void): Promise<void> {
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve, reject) => {
          const ws = new WebSocket(client.streamUrl(taskId, 0), { headers: client.authHeaders });
          ws.on("message", (data) => {
            const event = JSON.parse(String(data)) as StreamEvent;
            onFrame(event, Date.now());
            // The final status is the last event; don't wait for wrangler dev's proxy to close TCP.
            if (event.type === "status" && isTerminal(event.status)) {
              ws.terminate();
              resolve();
            }
          });
          ws.on("close", () => resolve());
          ws.on("error", reject);
        }),
    ),
  ).then(() => undefined);
}

export async function lineLatency(client: ApiClient, repoUrl: string, watchers: number, tickMs: number): Promise<void> {
  const lines = Math.round(3_000 / tickMs) + 20;
  const task = await client.createTask({
    repo: { url: repoUrl },
    prompt: `latency [demo:tick=${tickMs}][demo:lines=${lines}]`,
    cli: "demo",
    timeout_seconds: 120,
  });
  const samples: number[] = [];
  await watch(client, task.id, watchers, (event, receivedAt) => {
    if (event.type !== "output") return;
    for (const match of event.text.matchAll(/"sent_at_ms":(\d+)/g)) samples.push(receivedAt - Number(match[1]));
  });
  const s = summarize(samples);
  console.log(`3. Line latency, CLI write → WebSocket watcher, one line every ${tickMs} ms, ${watchers} watcher(s)`);
  printTable([
    ["lines received", "p50", "p90", "p99", "max"],
    [`${s.count} of ${lines * watchers}`, ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max)],
  ]);
  console.log("   target p50 ≤ 25 ms\n");
}

export async function outputThroughput(client: ApiClient, repoUrl: string): Promise<void> {
  const task = await client.createTask({ repo: { url: repoUrl }, prompt: `flood [demo:bytes=${THROUGHPUT_BYTES}]`, cli: "demo", timeout_seconds: 300 });
  let bytes = 0;
  let expectedOffset = 0;
  let inOrder = true;
  let first = 0;
  let last = 0;
  await watch(client, task.id, 1, (event, receivedAt) => {
    if (event.type !== "output" || event.stream !== "stdout") return;
    if (event.offset !== expectedOffset) inOrder = false;
    const size = Buffer.byteLength(event.text);
    expectedOffset = event.offset + size;
    bytes += size;
    first ||= receivedAt;
    last = receivedAt;
  });
  const seconds = (last - first) / 1000;
  const done = await client.getTask(task.id);
  console.log(`4. Throughput of one task writing ${THROUGHPUT_BYTES / 1_048_576} MiB to stdout, seen by one watcher`);
  printTable([
    ["received", "complete", "in order", "seconds", "MB/s"],
    [`${bytes} B`, String(bytes === THROUGHPUT_BYTES), String(inOrder), seconds.toFixed(2), (bytes / 1e6 / seconds).toFixed(1)],
  ]);
  console.log(`   task ${done.status}; target ≥ 5 MB/s with nothing lost\n`);
}
