/**
 * Watchers of a task's live stream: WebSockets, on the hibernation API, and Server-Sent Events
 * (`sse-watchers.ts`), counted together against the task's watcher cap.
 *
 * A watcher is accepted, sent everything after its `since` and then every new event as it is
 * appended. Accepting and replaying happen in one synchronous turn of the object, so no event
 * can be appended in between: no gap, no duplicate. Sockets are owned by the runtime
 * (`ctx.acceptWebSocket`), so the object may hibernate while watchers stay connected.
 *
 * Events appended in one turn leave together: `send` only queues them, and the queue is sent
 * as soon as the turn's synchronous work is done (a microtask), packed into as few frames as
 * the frame bounds allow (one, but for a huge turn) and serialised once for every watcher. A
 * runner's batch, or a result with the status change that follows it, is then one message per
 * watcher instead of one per event. Accepting a watcher and closing them all send the queue
 * first, so a replay never repeats a queued event and nothing queued is lost at the end.
 * @module
 */
import { STREAM_CLOSE_TASK_ENDED } from "#api/stream-events.js";
import type { SseWatchers } from "./sse-watchers.js";
import { packFrames } from "./stream-frames.js";

const WATCHER_TAG = "watcher";

/** What each socket remembers across hibernation. */
interface WatcherAttachment {
  since: number;
  connectedAt: number;
}

export class LiveStream {
  /** Wire events appended in this turn and not yet sent; empty between turns. */
  private queued: string[] = [];

  constructor(
    private readonly ctx: DurableObjectState,
    /** The Server-Sent Events watchers; they get the same queue, formatted their way. */
    readonly sse: SseWatchers,
  ) {}

  /** Queues events just appended to the log; they reach every watcher when this turn yields. */
  send(events: readonly string[]): void {
    if (events.length === 0) return;
    if (this.queued.length === 0) queueMicrotask(() => this.flush());
    this.queued.push(...events);
  }

  /** Sends what is queued to every watcher now. A socket that fails to take it is closed by the runtime. */
  flush(): void {
    if (this.queued.length === 0) return;
    const queued = this.queued;
    this.queued = [];
    this.sse.broadcast(queued);
    const sockets = this.ctx.getWebSockets(WATCHER_TAG);
    if (sockets.length === 0) return;
    const frames = [...packFrames(queued)];
    for (const ws of sockets) {
      try {
        for (const frame of frames) ws.send(frame);
      } catch {
        // The socket is closing or closed; it drops out of getWebSockets() on its own.
      }
    }
  }

  /** Accepts a watcher, replays `backlog` in frames, and closes at once if the task already ended. */
  accept(input: { since: number; backlog: Iterable<string>; ended: boolean; now: number }): Response {
    // The backlog is read from the log, which already holds every queued event: send those to
    // the other watchers first, or this one would get them twice.
    this.flush();
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server, [WATCHER_TAG]);
    server.serializeAttachment({ since: input.since, connectedAt: input.now } satisfies WatcherAttachment);
    for (const frame of packFrames(input.backlog)) server.send(frame);
    if (input.ended) server.close(STREAM_CLOSE_TASK_ENDED, "task ended");
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Sends what is queued, then closes every watcher: the task's last event has been appended. */
  closeAll(): void {
    this.flush();
    this.sse.closeAll();
    for (const ws of this.ctx.getWebSockets(WATCHER_TAG)) {
      try {
        ws.close(STREAM_CLOSE_TASK_ENDED, "task ended");
      } catch {
        // Already closed by the client: nothing left to do.
      }
    }
  }

  /** Accepts a Server-Sent Events watcher of everything after `since` (see sse-watchers.ts). */
  acceptSse(since: number): Response {
    // As for a socket: what is queued is already in the log the replay reads.
    this.flush();
    return this.sse.accept(since);
  }

  /** Watchers connected now, of both kinds. */
  count(): number {
    return this.ctx.getWebSockets(WATCHER_TAG).length + this.sse.count();
  }
}
