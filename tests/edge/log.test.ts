/**
 * Unit: the edge logger's lines — JSON with level, time, msg and the ids first; levels; the
 * pretty format; sampling of high-volume lines (never of errors); redaction before writing.
 */
import { describe, expect, it } from "vitest";
import { createLogger, parseLogConfig, type LogOptions } from "../../edge/src/log.js";

function capture(options: Partial<LogOptions> = {}) {
  const lines: string[] = [];
  const log = createLogger({
    level: "info",
    format: "json",
    sampleRatio: 1,
    now: () => Date.UTC(2026, 0, 2, 3, 4, 5),
    write: (l) => lines.push(l),
    ...options,
  });
  return { log, lines };
}

describe("edge logger", () => {
  it("writes one JSON object a line, ids first, child fields included", () => {
    const { log, lines } = capture();
    log.child({ task_id: "tsk_1", trace_id: "t".repeat(32) }).warn("runner touch failed", { request_id: "req-1", runner_id: "r1", error: "boom" });
    expect(lines).toHaveLength(1);
    expect(Object.keys(JSON.parse(lines[0]!))).toEqual(["level", "time", "msg", "request_id", "task_id", "runner_id", "trace_id", "error"]);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "warn", time: "2026-01-02T03:04:05.000Z", msg: "runner touch failed", task_id: "tsk_1" });
  });

  it("drops lines below the level and writes the pretty format on request", () => {
    const { log, lines } = capture({ level: "warn", format: "pretty" });
    log.info("quiet");
    log.error("loud", { task_id: "tsk_2" });
    expect(lines).toEqual(["2026-01-02T03:04:05.000Z ERROR loud task_id=tsk_2"]);
  });

  it("samples high-volume lines by the configured ratio but never errors", () => {
    let i = 0;
    const { log, lines } = capture({ sampleRatio: 0.25, random: () => (i++ % 4) / 4 });
    for (let n = 0; n < 8; n++) log.sampled("info", "heartbeat");
    expect(lines).toHaveLength(2);
    const none = capture({ sampleRatio: 0 });
    for (let n = 0; n < 5; n++) none.log.sampled("error", "heartbeat failed");
    expect(none.lines).toHaveLength(5);
  });

  it("redacts secrets before writing", () => {
    const { log, lines } = capture();
    log.error("callback failed", {
      authorization: "Bearer cf_key_0123456789abcdef_secret",
      env: { TOKEN: "s3cret-value" },
      error: "signing with whsec_abcdefghijklmnop failed",
    });
    expect(lines[0]).not.toMatch(/s3cret-value|abcdefghijklmnop|cf_key_0123456789abcdef_secret/);
    expect(JSON.parse(lines[0]!)).toMatchObject({ authorization: "[redacted]", env: "[redacted]" });
  });

  it("falls back to defaults for settings it cannot read", () => {
    expect(parseLogConfig({ LOG_LEVEL: "loud", LOG_FORMAT: "xml", LOG_SAMPLE_RATIO: "2" })).toEqual({ level: "info", format: "json", sampleRatio: 0.1 });
    expect(parseLogConfig({ LOG_LEVEL: "debug", LOG_FORMAT: "pretty", LOG_SAMPLE_RATIO: "0" })).toEqual({ level: "debug", format: "pretty", sampleRatio: 0 });
  });
});
