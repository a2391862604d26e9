// Unit: the lease loop's ways to end on its own, for runners an autoscaler starts: run-once
// (`maxTasks`), the idle exit (`idleExitMs`), and a refused lease request in those modes.
import { describe, expect, it } from "vitest";
import type { LeaseRequest } from "#api/index.js";
import { EdgeError } from "../../runner/src/edge-link/edge-error.js";
import { createLeaseLoop } from "../../runner/src/edge-link/lease-loop.js";
import { captureLogger, lease, leaseRequest, tick } from "./lease-fixture.js";

describe("ending on its own", () => {
  it("run-once: leases one task, asks for one slot only, stops leasing and ends when that task has finished", async () => {
    const requests: LeaseRequest[] = [];
    let finish: (() => void) | undefined;
    const loop = createLeaseLoop({
      client: { lease: async (req) => (requests.push(req), lease(requests.length)) },
      run: () => new Promise<void>((resolve) => (finish = resolve)),
      concurrency: 4,
      maxTasks: 1,
      leaseRequest,
      logger: captureLogger().logger,
    });
    let result: unknown;
    void loop.start().then((r) => (result = r));
    await tick(20);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.capacity).toBe(1);
    expect(loop.accepting).toBe(false);
    expect(result).toBeUndefined(); // the task still runs
    finish!();
    await tick(5);
    expect(result).toEqual({ end: "done", faults: 0 });
    expect(requests).toHaveLength(1);
  });

  it("counts a task that ended with an unexpected error as a fault", async () => {
    const loop = createLeaseLoop({
      client: { lease: async () => lease(1) },
      run: async () => {
        throw new Error("boom");
      },
      concurrency: 1,
      maxTasks: 1,
      leaseRequest,
      logger: captureLogger().logger,
    });
    expect(await loop.start()).toEqual({ end: "done", faults: 1 });
  });

  it("idle exit: ends after the idle time with nothing leased, no long poll outlasting it", async () => {
    const waits: number[] = [];
    const loop = createLeaseLoop({
      client: { lease: async (req) => (waits.push(req.wait_ms), await tick(req.wait_ms), null) },
      run: async () => undefined,
      concurrency: 1,
      idleExitMs: 80,
      leaseRequest,
      logger: captureLogger().logger,
    });
    const started = Date.now();
    expect(await loop.start()).toEqual({ end: "idle", faults: 0 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
    expect(waits[0]).toBeLessThanOrEqual(80);
    expect(Math.max(...waits)).toBeLessThanOrEqual(80);
  });

  it("idle exit counts from the end of the last task, not from the start", async () => {
    let calls = 0;
    let taskEndedAt = 0;
    const loop = createLeaseLoop({
      client: { lease: async (req) => (++calls === 1 ? lease(1) : (await tick(req.wait_ms), null)) },
      run: async () => {
        await tick(100);
        taskEndedAt = Date.now();
      },
      concurrency: 1,
      idleExitMs: 60,
      leaseRequest,
      logger: captureLogger().logger,
    });
    expect((await loop.start()).end).toBe("idle");
    expect(taskEndedAt).toBeGreaterThan(0);
    expect(Date.now() - taskEndedAt).toBeGreaterThanOrEqual(55);
  });

  it("a refused lease request ends a loop that ends on its own instead of retrying for ever", async () => {
    const { logger, lines } = captureLogger();
    let calls = 0;
    const loop = createLeaseLoop({
      client: {
        lease: async () => {
          calls++;
          throw new EdgeError("credential expired", 401, "unauthorized");
        },
      },
      run: async () => undefined,
      concurrency: 1,
      maxTasks: 1,
      leaseRequest,
      logger,
    });
    expect(await loop.start()).toEqual({ end: "refused", faults: 0 });
    expect(calls).toBe(1);
    expect(lines.find((l) => l.msg === "lease request refused: not waiting for a task any longer")).toMatchObject({ level: 50 });
  });

  it("run-once: keeps telling the edge it is alive while its task runs, taking nothing more", async () => {
    const requests: LeaseRequest[] = [];
    let finish: (() => void) | undefined;
    const loop = createLeaseLoop({
      client: { lease: async (req) => (requests.push(req), requests.length === 1 ? lease(1) : null) },
      run: () => new Promise<void>((resolve) => (finish = resolve)),
      concurrency: 2,
      maxTasks: 1,
      presenceIntervalMs: 10,
      leaseRequest,
      logger: captureLogger().logger,
    });
    const result = loop.start();
    for (let waited = 0; requests.length < 3 && waited < 2_000; waited += 10) await tick(10);
    expect(requests.length).toBeGreaterThanOrEqual(3);
    expect(requests.slice(1).every((r) => r.wait_ms === 0 && r.running === 1 && r.capacity === 1)).toBe(true);
    finish!();
    expect(await result).toEqual({ end: "done", faults: 0 });
    expect(loop.running).toBe(0);
  });

  it("stop() during a run-once task ends the loop once the task has finished", async () => {
    const loop = createLeaseLoop({
      client: { lease: async () => lease(1) },
      run: (_l, signal) => new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve())),
      concurrency: 1,
      maxTasks: 1,
      leaseRequest,
      logger: captureLogger().logger,
    });
    const result = loop.start();
    await tick(10);
    await loop.stop(20);
    expect(await result).toEqual({ end: "stopped", faults: 0 });
    expect(loop.running).toBe(0);
  });
});
