/**
 * Integration: the runners the edge has seen (`GET /api/v1/runners`, admin) and the
 * `waiting_reason` a queued task shows when no runner can take it.
 */
import { describe, expect, it } from "vitest";
import { RunnerList, type RunnerInfo } from "#api/runner-protocol.js";
import { apiFetch, createTask, expectError, getTask, uniquePool } from "./api-client.js";
import { advanceClock } from "./clock.js";
import { heartbeat, requestLease, startRunning } from "./runner-client.js";

async function runnersIn(pool: string): Promise<RunnerInfo[]> {
  const res = await apiFetch("/api/v1/runners");
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return RunnerList.parse(JSON.parse(text)).runners.filter((r) => r.pool === pool);
}

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
    expect(await runnersIn(pool)).toMatchObject([{ id: "busy-1", running: 1, capacity: 1 }]);
  });

  it("drops runners not heard from for two minutes, but keeps a busy runner that says it is alive", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool, "busy-1");
    expect((await requestLease({ pool, runner_id: "gone-1" })).status).toBe(204);
    expect((await runnersIn(pool)).map((r) => r.id)).toEqual(["busy-1", "gone-1"]);

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
