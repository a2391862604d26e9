/**
 * Server-Sent Events watchers of a task's live stream: the same events as the WebSocket
 * watchers get, as `text/event-stream`.
 *
 * A watcher first replays the log after its `since`, a page at a time at the pace the client
 * reads (each page is read from SQLite when the previous one has been taken), then follows the
 * live tail. The switch happens in the turn that finds nothing more in the log, so no event can
 * be appended between the last page and going live; an event both read from the log and then
 * broadcast (appended, not yet flushed) is sent once, since each watcher keeps the last `seq` it
 * was sent. When the task has ended and the watcher has everything, its stream is closed.
 *
 * Live events are formatted once per flush and the same bytes written to every watcher. Unlike
 * a hibernatable WebSocket, an open response keeps the task object in memory: a watcher is a
 * writer of a `TransformStream` whose other end is the response body. A comment heartbeat goes
 * out every `heartbeatMs` while any watcher is open; a watcher whose client has gone, or that
 * leaves `STREAM_SSE_BUFFER_MAX_BYTES` unread, is dropped. A client's hang-up does not reach the
 * object by itself: the next write to it fails, so the heartbeat is also what finds it gone.
 * @module
 */
import { STREAM_FRAME_MAX_EVENTS, STREAM_SSE_BUFFER_MAX_BYTES } from "#api/limits.js";
import { SSE_HEARTBEAT, sseEvent, ssePage } from "./sse-frames.js";

/** What the watchers read from the task: its log and whether it has ended. */
export interface SseSource {
  /** Wire events after `seq`, oldest first (at most `limit`). */
  after(seq: number, limit: number): Iterable<string>;
  /** True once the task has ended (or is gone): a watcher that has every event is closed. */
  ended(): boolean;
}

interface SseWatcher {
  writer: WritableStreamDefaultWriter<Uint8Array>;
  /** The newest seq written to this watcher (or its `since`). */
  lastSeq: number;
  /** False while it replays from the log; live events skip it until then. */
  live: boolean;
  /** Bytes written and not yet taken by the client. */
  pendingBytes: number;
}

/** The headers of every event stream: no cache may keep it, no proxy may buffer it. */
export const SSE_HEADERS = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-store",
  "X-Accel-Buffering": "no",
} as const;

const encoder = new TextEncoder();
const HEARTBEAT_BYTES = encoder.encode(SSE_HEARTBEAT);

export class SseWatchers {
  private readonly watchers = new Set<SseWatcher>();
  private heartbeat: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly source: SseSource,
    private readonly options: { heartbeatMs: number; maxPendingBytes?: number },
  ) {}

  /**
   * Opens a stream of everything after `since`. A task that has ended with nothing after
   * `since` answers 204, which tells an `EventSource` to stop reconnecting.
   */
  accept(since: number): Response {
    if (this.source.ended() && first(this.source.after(since, 1)) === undefined) return new Response(null, { status: 204 });
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const watcher: SseWatcher = { writer: writable.getWriter(), lastSeq: since, live: false, pendingBytes: 0 };
    this.watchers.add(watcher);
    watcher.writer.closed.catch(() => this.drop(watcher));
    this.startHeartbeat();
    void this.replay(watcher);
    return new Response(readable, { status: 200, headers: SSE_HEADERS });
  }

  /** Sends events just appended (wire JSON texts, in order) to every live watcher. */
  broadcast(events: readonly string[]): void {
    const live = [...this.watchers].filter((w) => w.live);
    if (live.length === 0 || events.length === 0) return;
    const formatted = events.map(sseEvent);
    const shared = encoder.encode(formatted.map((e) => e.text).join(""));
    const first = formatted[0]!.seq;
    const last = formatted.at(-1)!.seq;
    for (const watcher of live) {
      // Usually the whole batch is new to it; part of it is when its replay already read it.
      const fresh = watcher.lastSeq < first ? shared : encoder.encode(formatted.flatMap((e) => (e.seq > watcher.lastSeq ? [e.text] : [])).join(""));
      if (fresh.byteLength > 0) this.write(watcher, fresh);
      watcher.lastSeq = Math.max(watcher.lastSeq, last);
    }
  }

  /** Closes every live watcher once what was written has been read: the task has ended. Replaying ones close when they catch up. */
  closeAll(): void {
    for (const watcher of this.watchers) if (watcher.live) this.end(watcher);
  }

  /** Watchers connected now. */
  count(): number {
    return this.watchers.size;
  }

  /** Replays the log a page at a time (each when the client has taken the last), then goes live. */
  private async replay(watcher: SseWatcher): Promise<void> {
    try {
      for (;;) {
        if (!this.watchers.has(watcher)) return;
        const page = ssePage(this.source.after(watcher.lastSeq, STREAM_FRAME_MAX_EVENTS));
        if (page.lastSeq === null) {
          // Caught up, in the same turn as the read: nothing can have been appended since.
          if (this.source.ended()) this.end(watcher);
          else watcher.live = true;
          return;
        }
        this.write(watcher, encoder.encode(page.text), { replay: true });
        watcher.lastSeq = page.lastSeq;
        await watcher.writer.ready;
      }
    } catch {
      // The client went away (the write or `ready` rejected), or the task was deleted under it.
      this.drop(watcher);
    }
  }

  private write(watcher: SseWatcher, bytes: Uint8Array, options: { replay?: boolean } = {}): void {
    // A replay page waits for the client before the next; live events cannot wait, so a client
    // that falls too far behind them is dropped and resumes from the log when it reconnects.
    if (!options.replay && watcher.pendingBytes + bytes.byteLength > (this.options.maxPendingBytes ?? STREAM_SSE_BUFFER_MAX_BYTES)) {
      this.drop(watcher);
      return;
    }
    watcher.pendingBytes += bytes.byteLength;
    watcher.writer.write(bytes).then(
      () => {
        watcher.pendingBytes -= bytes.byteLength;
      },
      () => this.drop(watcher),
    );
  }

  /** Closes a watcher's stream after what it was sent, and forgets it. */
  private end(watcher: SseWatcher): void {
    this.forget(watcher);
    watcher.writer.close().catch(() => {
      // The client left before the end: nothing more to send it.
    });
  }

  /** Ends a watcher's stream at once (its client left, or fell too far behind). */
  private drop(watcher: SseWatcher): void {
    if (!this.watchers.has(watcher)) return;
    this.forget(watcher);
    watcher.writer.abort().catch(() => {
      // Already errored by the client's cancel: nothing more to do.
    });
  }

  private forget(watcher: SseWatcher): void {
    this.watchers.delete(watcher);
    if (this.watchers.size === 0 && this.heartbeat !== null) {
      clearInterval(this.heartbeat);
      this.heartbeat = null;
    }
  }

  private startHeartbeat(): void {
    if (this.heartbeat !== null) return;
    this.heartbeat = setInterval(() => {
      for (const watcher of this.watchers) if (watcher.live) this.write(watcher, HEARTBEAT_BYTES);
    }, this.options.heartbeatMs);
  }
}

function first<T>(items: Iterable<T>): T | undefined {
  for (const item of items) return item;
  return undefined;
}
