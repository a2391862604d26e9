// Unit: the heartbeat loop with a stand-in client that records beats and scripts answers.
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { Heartbeat, HeartbeatAck } from "#api/index.js";
import { EdgeError } from "../../runner/src/edge-link/edge-error.js";
import { startHeartbeat } from "../../runner/src/edge-link/heartbeat.js";

const logger = pino({ level: "silent" });
const ok = (cancel = false): HeartbeatAck => ({ lease_expires_at: new Date().toISOString(), cancel_requested: cancel });
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

function recorder(answer: (n: number) => Promise<HeartbeatAck>) {
  const beats: { at: number; body: Heartbeat }[] = [];
  const started = Date.now();
  return {
    beats,
    client: {
      heartbeat: (_task: string, body: Heartbeat) => {
        beats.push({ at: Date.now() - started, body });
        return answer(beats.length);
      },
    },
  };
}

describe("heartbeat", () => {
  it("beats every interval, and at once when the phase becomes running", async () => {
    const { beats, client } = recorder(async () => ok());
    const hb = startHeartbeat({ client, taskId: "t", leaseId: "l", intervalMs: 100, logger, onCancel: () => {}, onLeaseLost: () => {} });
    await wait(150);
    expect(beats.map((b) => b.body.phase)).toEqual(["preparing"]);
    hb.setPhase("running");
    await wait(10);
    expect(beats.map((b) => b.body)).toEqual([
      { lease_id: "l", phase: "preparing" },
      { lease_id: "l", phase: "running" },
    ]);
    expect(beats[1]!.at).toBeLessThan(170);
    await wait(230);
    await hb.stop();
    const count = beats.length;
    expect(count).toBeGreaterThanOrEqual(3);
    await wait(150);
    expect(beats.length).toBe(count);
  });

  it("calls onCancel when the ack asks for it", async () => {
    let cancels = 0;
    const { client } = recorder(async (n) => ok(n >= 2));
    const hb = startHeartbeat({ client, taskId: "t", leaseId: "l", intervalMs: 30, logger, onCancel: () => cancels++, onLeaseLost: () => {} });
    await wait(100);
    await hb.stop();
    expect(cancels).toBeGreaterThanOrEqual(1);
  });

  it("keeps beating through network failures, and stops for good on a stale lease", async () => {
    let lost = 0;
    const { beats, client } = recorder(async (n) => {
      if (n <= 2) throw new TypeError("fetch failed");
      throw new EdgeError("stale", 409, "lease_stale");
    });
    const hb = startHeartbeat({ client, taskId: "t", leaseId: "l", intervalMs: 20, logger, onCancel: () => {}, onLeaseLost: () => lost++ });
    await wait(200);
    expect(beats).toHaveLength(3);
    expect(lost).toBe(1);
    await hb.stop();
  });
});
