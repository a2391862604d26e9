/**
 * Integration: the runners the edge has seen (`GET /api/v1/runners`, admin), as each pool's
 * Dispatcher pushed them to the pool registry, a page at a time; and the `waiting_reason` a
 * queued task shows when no runner can take it.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { RunnerList, type RunnerInfo } from "#api/runner-protocol.js";
import type { Env } from "../../edge/src/env.js";
import { poolRegistry } from "../../edge/src/registry/pool-registry.js";
import { apiFetch, createTask, expectError, getTask, uniquePool } from "./api-client.js";
import { advanceClock } from "./clock.js";
import { heartbeat, requestLease, startRunning } from "./runner-client.js";

async function listPage(query: string): Promise<RunnerList> {
  const res = await apiFetch(`/api/v1/runners${query}`);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return RunnerList.parse(JSON.parse(text));
}

async function runnersIn(pool: string): Promise<RunnerInfo[]> {
  return (await listPage(`?pool=${pool}`)).runners;
}

/** The pool's runners once `check` holds: a change within the push interval reaches the registry at its end. */
async function runnersUntil(pool: string, check: (runners: RunnerInfo[]) => boolean): Promise<RunnerInfo[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const runners = await runnersIn(pool);
    if (check(runners) || Date.now() > deadline) return runners;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const runner = (pool: string, id: string): RunnerInfo => ({
  id,
  version: null,
  pool,
  clis: ["demo"],
  labels: [],
  running: 0,
  capacity: 1,
  last_seen_at: new Date().toISOString(),
});

describe("runners list", () => {
  it("lists every runner that asked for work, across pools, with what it offers and how busy it is", async () => {
    const [poolA, poolB] = [uniquePool(), uniquePool()];
    expect(
      (await requestLease({ pool: poolA, runner_id: "gpu-1", runner_version: "1.4.0", clis: ["demo", "claude"], labels: ["gpu"], running: 1, capacity: 4 }))
        .status,
    ).toBe(204);
    expect((await requestLease({ pool: poolB, runner_id: "cpu-1" })).status).toBe(204);

    const before = Date.now();
    const [gpu] = await runnersIn(poolA);
    expect(gpu).toMatchObject({ id: "gpu-1", version: "1.4.0", pool: poolA, clis: ["demo", "claude"], labels: ["gpu"], running: 1, capacity: 4 });
    expect(Math.abs(Date.parse(gpu!.last_seen_at) - before)).toBeLessThan(5_000);
    expect(await runnersIn(poolB)).toMatchObject([{ id: "cpu-1", version: null, clis: ["demo"], labels: [], running: 0, capacity: 1 }]);
  });

  it("counts a task a runner takes as running until it asks again", async () => {
    const pool = uniquePool();
    await createTask({ pool });
    await startRunning(pool, "busy-1");
    expect(await runnersUntil(pool, (r) => r[0]?.running === 1)).toMatchObject([{ id: "busy-1", running: 1, capacity: 1 }]);
  });

  it("drops runners not heard from for two minutes, but keeps a busy runner that says it is alive", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool, "busy-1");
    expect((await requestLease({ pool, runner_id: "gone-1" })).status).toBe(204);
    expect((await runnersUntil(pool, (r) => r.length === 2)).map((r) => r.id)).toEqual(["busy-1", "gone-1"]);

    // busy-1 runs a long task: it never polls for work; every 30 s or so it sends a lease request with
    // no free slot, which takes nothing — not even a task queued meanwhile — and keeps it listed.
    const queued = await createTask({ pool });
    for (let elapsed = 0; elapsed < 150_000; elapsed += 25_000) {
      advanceClock(25_000);
      expect((await heartbeat(task.id, lease.lease_id)).status).toBe(200);
      expect((await requestLease({ pool, runner_id: "busy-1", running: 1, capacity: 1 })).status).toBe(204);
    }
    expect((await getTask(queued.id)).status).toBe("queued");
    expect(await runnersIn(pool)).toMatchObject([{ id: "busy-1", running: 1, capacity: 1 }]);
    advanceClock(121_000);
    expect(await runnersIn(pool)).toEqual([]);
  });

  it("pages through pools and runners with a cursor, and filters by pool", async () => {
    // Pools whose Dispatchers never ran: the list reads only the registry's snapshots.
    const [a, b] = [uniquePool(), uniquePool()].sort();
    const gauges = { queued: 0, oldestQueuedAgeSeconds: 0, inProgress: 0, runnersTotal: 0, runnersActive: 0 };
    await poolRegistry(env as Env).report(a!, { takenAt: Date.now(), gauges, runners: [runner(a!, "r-1"), runner(a!, "r-2")] });
    await poolRegistry(env as Env).report(b!, { takenAt: Date.now(), gauges, runners: [runner(b!, "r-1")] });

    const first = await listPage(`?pool=${a}&limit=1`);
    expect(first.runners.map((r) => r.id)).toEqual(["r-1"]);
    expect(first.next_cursor).toBe(`${a}:r-1`);
    const second = await listPage(`?pool=${a}&limit=1&cursor=${first.next_cursor}`);
    expect(second).toEqual({ runners: [expect.objectContaining({ id: "r-2", pool: a })], next_cursor: null });

    // Across pools, a page ends inside one pool and the next goes on into the following pool.
    const across = await listPage(`?limit=2&cursor=${a}:r-1`);
    expect(across.runners[0]).toMatchObject({ pool: a, id: "r-2" });
    expect(across.runners).toHaveLength(2);
    expect(across.runners[1]!.pool > a!).toBe(true);
    const all: string[] = [];
    let cursor: string | null = `${a}:r-1`;
    while (cursor !== null) {
      const page: RunnerList = await listPage(`?limit=1&cursor=${cursor}`);
      all.push(...page.runners.map((r) => `${r.pool}:${r.id}`));
      cursor = page.next_cursor;
    }
    expect(all).toContain(`${a}:r-2`);
    expect(all).toContain(`${b}:r-1`);
    expect(all.indexOf(`${b}:r-1`)).toBeGreaterThan(all.indexOf(`${a}:r-2`));
    expect(new Set(all).size).toBe(all.length);
  });

  it("refuses a cursor that is not a next_cursor and a limit out of bounds, naming the field", async () => {
    await expectError(await apiFetch("/api/v1/runners?cursor=nope"), 400, "validation_failed", "cursor");
    await expectError(await apiFetch("/api/v1/runners?limit=0"), 400, "validation_failed", "limit");
  });

  it("answers POST with 405", async () => {
    await expectError(await apiFetch("/api/v1/runners", { method: "POST", json: {} }), 405, "method_not_allowed");
  });
});

describe("waiting_reason", () => {
  it("says no runner is connected to an empty pool", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    expect(task.waiting_reason).toBe(`no runner is connected to pool ${pool}`);
  });

  it("accepts a task for a CLI no runner has, and says so while it waits", async () => {
    const pool = uniquePool();
    expect((await requestLease({ pool, runner_id: "demo-only", clis: ["demo"] })).status).toBe(204);
    const task = await createTask({ pool, cli: "claude" });
    expect(task).toMatchObject({ status: "queued", waiting_reason: `no runner in pool ${pool} offers cli claude` });
    expect((await getTask(task.id)).waiting_reason).toBe(`no runner in pool ${pool} offers cli claude`);

    // A runner with the CLI but without the task's label cannot take it either.
    const labeled = await createTask({ pool, labels: ["gpu"] });
    expect(labeled.waiting_reason).toBe(`no runner in pool ${pool} offering cli demo has all the labels gpu`);

    // Once a capable runner comes, it takes the task, and the task no longer waits.
    expect((await requestLease({ pool, runner_id: "claude-1", clis: ["claude"] })).status).toBe(200);
    expect(await getTask(task.id)).toMatchObject({ status: "leased", waiting_reason: null });
  });

  it("says the capable runners are busy when all are at capacity", async () => {
    const pool = uniquePool();
    await createTask({ pool });
    await startRunning(pool, "only-1");
    const second = await createTask({ pool });
    expect(second.waiting_reason).toBe(`the one runner in pool ${pool} able to run it is busy`);
  });
});
