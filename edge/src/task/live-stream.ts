/**
 * WebSocket watchers of a task's live stream, on the hibernation API.
 *
 * A watcher is accepted, sent everything after its `since` and then every new event as it is
 * appended. Accepting and replaying happen in one synchronous turn of the object, so no event
 * can be appended in between: no gap, no duplicate. Sockets are owned by the runtime
 * (`ctx.acceptWebSocket`), so the object may hibernate while watchers stay connected.
 * @module
 */
import { STREAM_CLOSE_TASK_ENDED } from "#api/stream-events.js";

const WATCHER_TAG = "watcher";

/** What each socket remembers across hibernation. */
interface WatcherAttachment {
  since: number;
  connectedAt: number;
}

/** Accepts a watcher, replays `backlog`, and closes at once if the task already ended. */
export function acceptWatcher(ctx: DurableObjectState, input: { since: number; backlog: Iterable<string>; ended: boolean; now: number }): Response {
  const pair = new WebSocketPair();
  const [client, server] = [pair[0], pair[1]];
  ctx.acceptWebSocket(server, [WATCHER_TAG]);
  server.serializeAttachment({ since: input.since, connectedAt: input.now } satisfies WatcherAttachment);
  for (const frame of input.backlog) server.send(frame);
  if (input.ended) server.close(STREAM_CLOSE_TASK_ENDED, "task ended");
  return new Response(null, { status: 101, webSocket: client });
}

/** Sends frames to every watcher. A socket that fails to take them is closed by the runtime. */
export function broadcast(ctx: DurableObjectState, frames: readonly string[]): void {
  if (frames.length === 0) return;
  for (const ws of ctx.getWebSockets(WATCHER_TAG)) {
    try {
      for (const frame of frames) ws.send(frame);
    } catch {
      // The socket is closing or closed; it drops out of getWebSockets() on its own.
    }
  }
}

/** Closes every watcher after the task's last event was sent. */
export function closeWatchers(ctx: DurableObjectState): void {
  for (const ws of ctx.getWebSockets(WATCHER_TAG)) {
    try {
      ws.close(STREAM_CLOSE_TASK_ENDED, "task ended");
    } catch {
      // Already closed by the client: nothing left to do.
    }
  }
}

export function watcherCount(ctx: DurableObjectState): number {
  return ctx.getWebSockets(WATCHER_TAG).length;
}
