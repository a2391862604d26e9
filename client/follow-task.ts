/**
 * Follows a task's live stream over WebSocket, reconnecting with `?since=<last seq>` when the
 * connection drops, until the task ends. Yields every event exactly once, in order.
 * @module
 */
import { isTerminal, type TaskStatus } from "#api/task.js";
import { type StreamEvent, streamFrameEvents } from "#api/stream-events.js";
import { ErrorBody } from "#api/errors.js";
import { CodeForgeError, type ApiClient } from "./api-client.js";

export interface FollowOptions {
  since?: number;
  /** Gives up after this many reconnects in a row without receiving anything. */
  maxReconnects?: number;
  signal?: AbortSignal;
}

/**
 * Yields the task's events from `since` on; returns when the task has ended — in its current
 * iteration: an earlier iteration's end is followed by its follow-up's events.
 */
export async function* followTask(client: ApiClient, taskId: string, options: FollowOptions = {}): AsyncGenerator<StreamEvent> {
  let since = options.since ?? 0;
  let failures = 0;
  const maxReconnects = options.maxReconnects ?? 5;
  for (;;) {
    let ended = false;
    let received = false;
    for await (const event of streamOnce(client, taskId, since, options.signal)) {
      received = true;
      if (event.seq <= since) continue; // never yield twice, whatever the server does
      since = event.seq;
      yield event;
      // The final status is the log's last event. Stop here rather than wait for the socket to
      // close: some proxies (wrangler dev's among them) hold the TCP connection open for seconds
      // after the close frame.
      if (event.type === "status" && isTerminal(event.status as TaskStatus) && (await isLastIteration(client, taskId, event.iteration))) {
        ended = true;
        break;
      }
    }
    if (ended || options.signal?.aborted) return;
    failures = received ? 0 : failures + 1;
    if (failures > maxReconnects) throw new Error(`lost the stream of ${taskId} after ${maxReconnects} reconnects`);
    await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** failures)));
  }
}

/** Whether `iteration` is the task's newest one (a later follow-up would have a larger number). */
async function isLastIteration(client: ApiClient, taskId: string, iteration: number): Promise<boolean> {
  return (await client.getTask(taskId)).iteration <= iteration;
}

/** One WebSocket connection's worth of events. */
async function* streamOnce(client: ApiClient, taskId: string, since: number, signal?: AbortSignal): AsyncGenerator<StreamEvent> {
  // Loaded here, not at the top: the commands that never stream start without ws and the http,
  // tls and zlib modules under it (see the start-up figures of `npm run bench`).
  const { default: WebSocket } = await import("ws");
  const ws = new WebSocket(client.streamUrl(taskId, since), { headers: client.authHeaders });
  const queue: (StreamEvent | null | Error)[] = [];
  let wake: (() => void) | null = null;
  const push = (...items: (StreamEvent | null | Error)[]) => {
    queue.push(...items);
    wake?.();
  };
  // A frame carries the events appended together, in order: each is yielded on its own.
  ws.on("message", (data) => push(...streamFrameEvents(String(data))));
  ws.on("close", () => push(null));
  ws.on("error", (err) => push(err));
  // A refusal carries the API's error envelope: read it, so the caller can say why.
  ws.on("unexpected-response", (_req, res) => {
    const chunks: Buffer[] = [];
    res.on("data", (chunk: Buffer) => chunks.push(chunk));
    res.on("end", () => push(refusal(res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8"), res.headers["retry-after"])));
    res.on("error", () => push(refusal(res.statusCode ?? 0, "", undefined)));
  });
  const abort = () => ws.close();
  signal?.addEventListener("abort", abort);
  try {
    for (;;) {
      if (queue.length === 0) await new Promise<void>((r) => (wake = r));
      wake = null;
      const item = queue.shift()!;
      if (item === null) return;
      if (item instanceof Error) {
        // A refusal is final (bad key, no such task); a dropped connection is retried.
        if (item instanceof CodeForgeError && item.status < 500) throw item;
        return;
      }
      yield item;
    }
  } finally {
    signal?.removeEventListener("abort", abort);
    ws.terminate();
  }
}

/** The error for a stream the edge refused to open. */
function refusal(status: number, body: string, retryAfter: string | string[] | undefined): CodeForgeError {
  let envelope: ErrorBody | null = null;
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(body));
    if (parsed.success) envelope = parsed.data;
  } catch {
    // Not the API's JSON: reported below with the status alone.
  }
  const wait = typeof retryAfter === "string" && /^\d+$/.test(retryAfter) ? Number(retryAfter) : null;
  if (!envelope) return new CodeForgeError(status, "stream_refused", `the stream was refused with HTTP ${status}`, null, undefined, wait);
  const e = envelope.error;
  return new CodeForgeError(status, e.code, e.message, e.request_id, e.field, wait);
}
