// Unit: what /readyz decides — taking work, the edge reached recently, every advertised CLI still there.
import { afterEach, describe, expect, it, vi } from "vitest";
import { createReadiness } from "../../runner/src/telemetry/readiness.js";

afterEach(() => vi.useRealTimers());

describe("runner readiness", () => {
  it("is ready only after the edge was reached, and not once contact is too old", () => {
    let clock = 100_000;
    let last: number | null = null;
    const readiness = createReadiness({
      accepting: () => true,
      lastEdgeContactAt: () => last,
      edgeContactMaxMs: 60_000,
      advertisedClis: ["demo"],
      checkClis: async () => ["demo"],
      now: () => clock,
    });
    expect(readiness.check()).toMatchObject({ ready: false, detail: { problems: ["the edge has not been reached yet"] } });
    last = clock;
    expect(readiness.check()).toMatchObject({ ready: true, detail: { last_edge_contact_at: new Date(last).toISOString() } });
    clock += 61_000;
    expect(readiness.check()).toMatchObject({ ready: false, detail: { problems: ["the edge was last reached 61 s ago"] } });
    readiness.stop();
  });

  it("is not ready while shutting down, or once an advertised CLI is gone (re-checked in the background)", async () => {
    vi.useFakeTimers();
    let installed = ["demo", "claude"];
    let accepting = true;
    const readiness = createReadiness({
      accepting: () => accepting,
      lastEdgeContactAt: () => Date.now(),
      edgeContactMaxMs: 60_000,
      advertisedClis: ["demo", "claude"],
      checkClis: async () => installed,
      cliRecheckMs: 1_000,
    });
    expect(readiness.check().ready).toBe(true);
    installed = ["demo"];
    await vi.advanceTimersByTimeAsync(1_000);
    expect(readiness.check()).toMatchObject({ ready: false, detail: { problems: ["CLIs no longer available: claude"] } });
    installed = ["demo", "claude"];
    await vi.advanceTimersByTimeAsync(1_000);
    expect(readiness.check().ready).toBe(true);
    accepting = false;
    expect(readiness.check()).toMatchObject({ ready: false, detail: { problems: ["shutting down: not taking work"] } });
    readiness.stop();
  });
});
