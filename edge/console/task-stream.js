/**
 * Follows a task's live log over its WebSocket (`GET /api/v1/tasks/:id/stream?since=<seq>`;
 * the session cookie authenticates it). Each message is a JSON array of events, oldest first;
 * every event is handed on once, in order. A dropped connection is reopened from the last seq
 * seen, with a growing pause; the edge closes the stream when the task has ended, and then the
 * follower stops until `resume()` (after a follow-up).
 * @module
 */

const MAX_BACKOFF_MS = 5_000;

export class TaskStream {
  /**
   * @param {string} taskId
   * @param {{ onEvents: (events: object[]) => void, onState?: (state: string) => void, hasEnded?: () => boolean, since?: number }} options
   */
  constructor(taskId, { onEvents, onState = () => {}, hasEnded = () => true, since = 0 }) {
    this.taskId = taskId;
    this.hasEnded = hasEnded;
    this.onEvents = onEvents;
    this.onState = onState;
    this.since = since;
    this.socket = null;
    this.failures = 0;
    this.stopped = false;
    this.timer = null;
    this.open();
  }

  open() {
    if (this.stopped) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/api/v1/tasks/${encodeURIComponent(this.taskId)}/stream?since=${this.since}`);
    this.socket = socket;
    this.onState("connecting");
    socket.addEventListener("open", () => this.onState("live"));
    socket.addEventListener("message", (message) => {
      let parsed;
      try {
        parsed = JSON.parse(message.data);
      } catch {
        return; // not a frame (the edge never sends one, but a proxy might)
      }
      const events = (Array.isArray(parsed) ? parsed : [parsed]).filter((e) => typeof e?.seq === "number" && e.seq > this.since);
      if (!events.length) return;
      this.failures = 0;
      this.since = events.at(-1).seq;
      this.onEvents(events);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket || this.stopped) return;
      this.socket = null;
      // 1000: the task ended and every event was sent — unless the page knows of a later iteration.
      if (event.code === 1000 && this.hasEnded()) return this.onState("ended");
      if (event.code !== 1000) this.failures += 1;
      this.onState("reconnecting");
      this.timer = setTimeout(() => this.open(), Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.max(1, this.failures)));
    });
  }

  /** Opens the stream again from the last seq (a follow-up started a new iteration). */
  resume() {
    if (this.stopped || this.socket) return;
    clearTimeout(this.timer);
    this.open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.close();
    this.socket = null;
  }
}
