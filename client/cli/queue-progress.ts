/**
 * What `watch`, `submit --follow` and `followup --follow` show while a task waits in the queue:
 * why no runner has taken it yet (the API's `waiting_reason`), again whenever that changes.
 *
 * On a terminal it is one spinner line with the time waited ("⠋ queued 12s — no runner in pool
 * default offers cli claude"), redrawn in place on stderr and cleared before an event line
 * prints. Piped, it is a plain line on stderr for each new reason: no `\r`, no spinner. With
 * `--json` nothing: the task's JSON carries `waiting_reason`. Time comes from a `Ticker`, so
 * tests step it themselves.
 * @module
 */
import type { Output } from "./output.js";

/** The clock and the timer the spinner runs on. */
export interface Ticker {
  now(): number;
  /** Calls `tick` every `ms` until the returned function is called. */
  every(ms: number, tick: () => void): () => void;
}

export const realTicker: Ticker = {
  now: () => Date.now(),
  every(ms, tick) {
    const timer = setInterval(tick, ms);
    return () => clearInterval(timer);
  },
};

export const SPINNER_FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"] as const;
/** Fast enough to look alive, slow enough to cost nothing. */
export const SPINNER_INTERVAL_MS = 100;

/** `12s`, `3m 04s`, `1h 02m`. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${pad(Math.floor(s / 60) % 60)}m`;
}

/** The terminal's line: `⠋ queued 12s — <reason>`. */
export function spinnerLine(frame: number, elapsedMs: number, reason: string | null): string {
  return `${SPINNER_FRAMES[frame % SPINNER_FRAMES.length]} queued ${formatElapsed(elapsedMs)}${reason ? ` — ${reason}` : ""}`;
}

/** The piped line for a new reason. */
export function waitingLine(reason: string): string {
  return `waiting: ${reason}`;
}

export interface QueueProgress {
  /** The task is queued, since `since` (epoch ms), for `reason` (null: the edge gave none). */
  queued(since: number, reason: string | null): void;
  /** The task left the queue: the spinner goes. */
  done(): void;
  /** Prints an event line without tearing the spinner: cleared first, redrawn after. */
  line(text: string): void;
}

/**
 * The progress for `out`: a spinner when `out` is a terminal (it has `redraw`) and the output
 * is not JSON, plain lines when piped, nothing with JSON.
 */
export function queueProgress(out: Output, options: { json: boolean; ticker?: Ticker }): QueueProgress {
  if (options.json) return { queued() {}, done() {}, line: (text) => out.line(text) };
  if (!out.redraw) return pipedProgress(out);
  return spinnerProgress(out, out.redraw, options.ticker ?? realTicker);
}

function pipedProgress(out: Output): QueueProgress {
  let shown: string | null = null;
  return {
    queued(_since, reason) {
      if (reason && reason !== shown) out.error(waitingLine(reason));
      shown = reason;
    },
    done() {
      shown = null;
    },
    line: (text) => out.line(text),
  };
}

function spinnerProgress(out: Output, redraw: (text: string) => void, ticker: Ticker): QueueProgress {
  let state: { since: number; reason: string | null } | null = null;
  let frame = 0;
  let onScreen = false;
  let stop: (() => void) | null = null;
  const draw = () => {
    if (!state) return;
    redraw(spinnerLine(frame++, ticker.now() - state.since, state.reason));
    onScreen = true;
  };
  const clear = () => {
    if (onScreen) redraw("");
    onScreen = false;
  };
  return {
    queued(since, reason) {
      state = { since, reason };
      stop ??= ticker.every(SPINNER_INTERVAL_MS, draw);
      draw();
    },
    done() {
      stop?.();
      stop = null;
      state = null;
      clear();
    },
    line(text) {
      clear();
      out.line(text);
      draw();
    },
  };
}
