// Unit: the polling consumer with a stand-in client, recording what it leases and when.
import { describe, expect, it } from "vitest";
import type { LeaseRequest } from "#api/index.js";
import { EdgeError } from "../../runner/src/edge-link/edge-error.js";
import { createLeaseLoop } from "../../runner/src/edge-link/lease-loop.js";
import { captureLogger, lease, leaseRequest, tick } from "./lease-fixture.js";

describe("lease loop", () => {
  it("leases only while a slot is free and polls again as soon as one frees", async () => {
    let calls = 0;
    const finishers: (() => void)[] = [];
    const loop = createLeaseLoop({
      client: {
        lease: async (_req, signal) => {
          calls++;
          if (calls <= 3) return lease(calls);
          await new Promise((r) => signal?.addEventListener("abort", r));
          return null;
        },
      },
      run: () => new Promise<void>((resolve) => finishers.push(resolve)),
      concurrency: 2,
      leaseRequest,
      logger: captureLogger().logger,
    });
    const done = loop.start();
    await tick(20);
    expect(calls).toBe(2);
    expect(loop.running).toBe(2);
    finishers[0]!();
    await tick(20);
    expect(calls).toBe(3); // leased task 3 into the freed slot; full again, so no 4th poll
    expect(loop.running).toBe(2);
    finishers[1]!();
    await tick(20);
    expect(calls).toBe(4); // a slot is free: the 4th poll is open
    expect(loop.running).toBe(1);
    finishers[2]!();
    await loop.stop(1_000);
    await done;
    expect(loop.running).toBe(0);
  });

  it("while full, only says it is alive (running = capacity, wait 0) every presence interval, and polls as soon as a slot frees", async () => {
    const requests: LeaseRequest[] = [];
    const finishers: (() => void)[] = [];
    const loop = createLeaseLoop({
      client: {
        lease: async (req, signal) => {
          requests.push(req);
          if (requests.length === 1) return lease(1);
          if (req.running >= req.capacity) return null;
          await new Promise((r) => signal?.addEventListener("abort", r));
          return null;
        },
      },
      run: () => new Promise<void>((resolve) => finishers.push(resolve)),
      concurrency: 1,
      leaseRequest,
      logger: captureLogger().logger,
      presenceIntervalMs: 40,
    });
    const done = loop.start();
    await tick(150);
    const presence = requests.slice(1);
    expect(presence.length).toBeGreaterThanOrEqual(2);
    expect(presence.length).toBeLessThanOrEqual(4);
    for (const req of presence) expect(req).toMatchObject({ running: 1, capacity: 1, wait_ms: 0 });

    finishers[0]!();
    await tick(10);
    expect(requests.at(-1)).toMatchObject({ running: 0, capacity: 1, wait_ms: 25_000 });
    await loop.stop(1_000);
    await done;
  });

  it("re-polls at once after an empty long poll", async () => {
    let calls = 0;
    const loop = createLeaseLoop({
      client: { lease: async () => (calls++, null) },
      run: async () => undefined,
      concurrency: 1,
      leaseRequest,
      logger: captureLogger().logger,
    });
    void loop.start();
    await tick(30);
    await loop.stop(0);
    expect(calls).toBeGreaterThan(5);
  });

  it("logs every failure, backs off with growing delays, and keeps polling", async () => {
    const { logger, lines } = captureLogger();
    const delays: number[] = [];
    let calls = 0;
    const loop = createLeaseLoop({
      client: {
        lease: async () => {
          calls++;
          if (calls === 1) throw new EdgeError("bad signature", 401, "unauthorized");
          if (calls <= 4) throw new TypeError("fetch failed");
          return null;
        },
      },
      run: async () => undefined,
      concurrency: 1,
      leaseRequest,
      logger,
      backoff: { baseMs: 100, maxMs: 10_000 },
      sleep: async (ms) => void delays.push(ms),
    });
    void loop.start();
    await tick(20);
    await loop.stop(0);
    expect(calls).toBeGreaterThan(4);
    expect(delays).toHaveLength(4);
    expect(delays[3]!).toBeGreaterThan(delays[0]!);
    const failures = lines.filter((l) => l.msg === "lease request failed");
    expect(failures).toHaveLength(4);
    expect(failures[0]).toMatchObject({ level: 50 }); // the 401 stands out as an error
    expect(failures[1]).toMatchObject({ level: 40 });
  });

  it("keeps going when a task throws", async () => {
    let calls = 0;
    const { logger, lines } = captureLogger();
    const loop = createLeaseLoop({
      client: { lease: async () => (++calls <= 2 ? lease(calls) : null) },
      run: async () => {
        throw new Error("boom");
      },
      concurrency: 1,
      leaseRequest,
      logger,
    });
    void loop.start();
    await tick(30);
    await loop.stop(0);
    expect(calls).toBeGreaterThan(2);
    expect(lines.filter((l) => l.msg === "task ended with an unexpected error")).toHaveLength(2);
  });

  it("stop() cancels the open lease request, waits for running tasks within the grace period, then aborts them", async () => {
    let leaseSignal: AbortSignal | undefined;
    let runSignal: AbortSignal | undefined;
    let calls = 0;
    const loop = createLeaseLoop({
      client: {
        lease: async (_req, signal) => {
          if (++calls === 1) return lease(1);
          leaseSignal = signal;
          await new Promise((r) => signal?.addEventListener("abort", r));
          throw new DOMException("aborted", "AbortError");
        },
      },
      run: (_lease, signal) =>
        new Promise<void>((resolve) => {
          runSignal = signal;
          signal.addEventListener("abort", () => setTimeout(resolve, 10));
        }),
      concurrency: 2,
      leaseRequest,
      logger: captureLogger().logger,
    });
    void loop.start();
    await tick(20);
    const started = Date.now();
    await loop.stop(100);
    expect(leaseSignal?.aborted).toBe(true);
    expect(runSignal?.aborted).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    expect(loop.accepting).toBe(false);
    expect(loop.running).toBe(0);
  });

  it("stop() returns as soon as running tasks finish within the grace period", async () => {
    let calls = 0;
    let runSignal: AbortSignal | undefined;
    const loop = createLeaseLoop({
      client: { lease: async (_r, signal) => (++calls === 1 ? lease(1) : (await new Promise((r) => signal?.addEventListener("abort", r)), null)) },
      run: (_l, signal) => ((runSignal = signal), new Promise<void>((resolve) => setTimeout(resolve, 50))),
      concurrency: 1,
      leaseRequest,
      logger: captureLogger().logger,
    });
    void loop.start();
    await tick(10);
    const started = Date.now();
    await loop.stop(10_000);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(runSignal?.aborted).toBe(false);
  });
});
