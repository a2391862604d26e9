// Unit: the polling consumer with a stand-in client, recording what it leases and when.
import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { Lease, LeaseRequest } from "#api/index.js";
import { EdgeError } from "../../runner/src/edge-link/edge-error.js";
import { createLeaseLoop } from "../../runner/src/edge-link/lease-loop.js";

const leaseRequest: Omit<LeaseRequest, "running" | "capacity"> = { runner_id: "r1", pool: "default", clis: ["demo"], labels: [], wait_ms: 25_000 };

function lease(n: number): Lease {
  return {
    task_id: `tsk_${n}`,
    lease_id: `lse_${n}`,
    attempt: 1,
    lease_expires_at: new Date().toISOString(),
    traceparent: null,
    heartbeat_interval_ms: 1_000,
    task: {
      repo: { url: "https://example.com/r.git", ref: null },
      iteration: 1,
      base: null,
      prompt: "p",
      cli: "demo",
      model: null,
      timeout_seconds: 60,
      stall_timeout_seconds: null,
      access_token: null,
      push: null,
      env: {},
      autonomy: "full",
      egress_allow: null,
      budget: { max_cost_usd: null, max_tokens: null, max_turns: null, spent_cost_usd: 0, spent_tokens: 0 },
      resume: null,
    },
  };
}

function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { logger: pino({ level: "info" }, stream), lines };
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

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

    it("stop() during a run-once task still ends the loop as done once the task has finished", async () => {
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
      expect(await result).toEqual({ end: "done", faults: 0 });
    });
  });
});
