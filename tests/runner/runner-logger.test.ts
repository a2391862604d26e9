// Unit: the runner's log lines — JSON with level, time, msg and runner_id; secrets redacted in
// fields and messages; high-volume lines sampled, errors never.
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { newLeaseId } from "#api/ids.js";
import { createRunnerLogger, sampledLogger } from "../../runner/src/telemetry/runner-logger.js";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      done();
    },
  });
  return { lines, logger: createRunnerLogger({ level: "debug", format: "json", runnerId: "runner-7", destination }) };
}

describe("runner logger", () => {
  it("writes level, time, msg and runner_id, and redacts secret fields and secret-shaped text", () => {
    const { lines, logger } = capture();
    const lease = newLeaseId();
    logger
      .child({ task_id: "tsk_1" })
      .warn(
        { access_token: "ghp_notreallyatokenbutlong123", env: { API_KEY: "v" }, err: `refused with lease ${lease}` },
        `clone of https://bob:hunter2@git.example.com/r.git failed`,
      );
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: "warn", runner_id: "runner-7", task_id: "tsk_1", access_token: "[redacted]", env: "[redacted]" });
    expect(typeof line.time).toBe("string");
    expect(line.msg).toBe("clone of https://[redacted]@git.example.com/r.git failed");
    expect(lines[0]).not.toContain(lease);
    expect(lines[0]).not.toContain("hunter2");
  });

  it("samples debug/info/warn lines of a sampled logger, children included, and never its errors", () => {
    const { lines, logger } = capture();
    let i = 0;
    const noisy = sampledLogger(logger, 0.5, () => (i++ % 2) / 2).child({ task_id: "tsk_2" });
    for (let n = 0; n < 10; n++) noisy.info("heartbeat acknowledged");
    for (let n = 0; n < 3; n++) noisy.error("heartbeat refused");
    expect(lines.filter((l) => l.includes("heartbeat acknowledged"))).toHaveLength(5);
    expect(lines.filter((l) => l.includes("heartbeat refused"))).toHaveLength(3);
    expect(lines.every((l) => JSON.parse(l).task_id === "tsk_2")).toBe(true);
  });
});
