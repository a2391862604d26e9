/**
 * Unit: what `watch`/`submit --follow` show while a task is queued, driven by a hand-stepped
 * ticker: on a terminal a spinner line with the time waited, redrawn in place and cleared
 * before an event line; piped, one plain line per new waiting reason and never a `\r`.
 */
import { describe, expect, it } from "vitest";
import type { Output } from "../../client/cli/output.js";
import { formatElapsed, queueProgress, SPINNER_INTERVAL_MS, spinnerLine, type Ticker } from "../../client/cli/queue-progress.js";

/** A ticker whose time moves only when the test says. */
function manualTicker(start = 1_000_000) {
  let now = start;
  const timers = new Set<{ ms: number; due: number; tick: () => void }>();
  const ticker: Ticker = {
    now: () => now,
    every(ms, tick) {
      const timer = { ms, due: now + ms, tick };
      timers.add(timer);
      return () => timers.delete(timer);
    },
  };
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      const next = [...timers].sort((a, b) => a.due - b.due)[0];
      if (!next || next.due > end) break;
      now = next.due;
      next.due += next.ms;
      next.tick();
    }
    now = end;
  };
  return { ticker, advance, running: () => timers.size };
}

/** Everything written, in order: `out:` lines, `err:` lines and `draw:` redraws. */
function recorder(terminal: boolean) {
  const log: string[] = [];
  const out: Output = {
    line: (t) => log.push(`out:${t}`),
    error: (t) => log.push(`err:${t}`),
    color: false,
    ...(terminal ? { redraw: (t: string) => log.push(`draw:${t}`) } : {}),
  };
  return { out, log };
}

const REASON = "no runner in pool default offers cli claude";

describe("formatElapsed and spinnerLine", () => {
  it("reads as seconds, then minutes, then hours", () => {
    expect([0, 12_400, 59_999, 60_000, 184_000, 3_720_000].map(formatElapsed)).toEqual(["0s", "12s", "59s", "1m 00s", "3m 04s", "1h 02m"]);
    expect(formatElapsed(-5_000)).toBe("0s"); // a clock ahead of the edge's
  });

  it("is a spinner frame, the time queued and the reason", () => {
    expect(spinnerLine(0, 12_000, REASON)).toBe(`⠋ queued 12s — ${REASON}`);
    expect(spinnerLine(1, 3_000, null)).toBe("⠙ queued 3s");
  });
});

describe("queueProgress on a terminal", () => {
  it("redraws the spinner in place as time passes, clears it around event lines, and stops when the task leaves the queue", () => {
    const { ticker, advance, running } = manualTicker();
    const { out, log } = recorder(true);
    const progress = queueProgress(out, { json: false, ticker });
    progress.queued(ticker.now() - 11_000, REASON);
    expect(log).toEqual([`draw:⠋ queued 11s — ${REASON}`]);
    advance(1_000);
    expect(log.length).toBe(1 + 1_000 / SPINNER_INTERVAL_MS);
    expect(log.at(-1)).toBe(`draw:⠋ queued 12s — ${REASON}`); // ten frames on: round to the first again
    expect(log.slice(1).every((l) => l.startsWith("draw:"))).toBe(true);
    log.length = 0;
    progress.line("● queued");
    expect(log[0]).toBe("draw:");
    expect(log[1]).toBe("out:● queued");
    expect(log[2]).toMatch(/^draw:. queued 12s/);
    progress.queued(ticker.now() - 12_000, "the one runner in pool default able to run it is busy");
    expect(log.at(-1)).toMatch(/queued 12s — the one runner in pool default able to run it is busy$/);
    log.length = 0;
    progress.done();
    expect(log).toEqual(["draw:"]);
    expect(running()).toBe(0);
    advance(5_000);
    progress.line("● leased");
    expect(log).toEqual(["draw:", "out:● leased"]);
  });
});

describe("queueProgress when piped", () => {
  it("writes each new reason once, as a plain line on stderr, and no spinner", () => {
    const { ticker, advance, running } = manualTicker();
    const { out, log } = recorder(false);
    const progress = queueProgress(out, { json: false, ticker });
    progress.queued(ticker.now(), null);
    progress.queued(ticker.now(), REASON);
    advance(10_000);
    progress.queued(ticker.now(), REASON);
    progress.line("● queued");
    progress.queued(ticker.now(), "no runner is connected to pool default");
    progress.done();
    progress.line("● leased");
    expect(log).toEqual([`err:waiting: ${REASON}`, "out:● queued", "err:waiting: no runner is connected to pool default", "out:● leased"]);
    expect(log.join("")).not.toContain("\r");
    expect(running()).toBe(0);
  });

  it("with --json writes only the event lines", () => {
    const { ticker } = manualTicker();
    const { out, log } = recorder(true);
    const progress = queueProgress(out, { json: true, ticker });
    progress.queued(ticker.now(), REASON);
    progress.line("{}");
    progress.done();
    expect(log).toEqual(["out:{}"]);
  });
});
