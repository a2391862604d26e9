/**
 * Integration: a pool's Dispatcher split over three shards (`DISPATCHER_SHARDS=3`). A task
 * queues in its owner key's shard; a runner long-polls its home shard and takes from the
 * others — at once when it asks, and within `STEAL_EVERY_MS` while it waits. A key's limits
 * hold across shards, and the pool's runners list and gauges count every shard, each runner once.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { RunnerList } from "#api/runner-protocol.js";
import { dispatcherShard, shardOf, STEAL_EVERY_MS } from "../../edge/src/dispatcher/shards.js";
import { apiFetch, createTask, dispatcherOf, getTask, uniquePool } from "../edge/api-client.js";
import { createKey, createTaskAs } from "../edge/key-client.js";
import { requestLease } from "../edge/runner-client.js";

const SHARDS = 3;
/** The admin key's tasks queue in this shard. */
const ADMIN_SHARD = shardOf("admin", SHARDS);

/** A runner id whose home shard is `shard`. */
function runnerHomedIn(shard: number, prefix = "runner"): string {
  for (let i = 0; ; i++) if (shardOf(`${prefix}-${i}`, SHARDS) === shard) return `${prefix}-${i}`;
}

const queuedIn = async (pool: string, shard: number) => (await dispatcherShard(env, pool, shard).stats()).queued;

describe("dispatcher shards", () => {
  it("queues a task in its owner's shard, and a runner homed elsewhere takes it at once", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    expect(await queuedIn(pool, ADMIN_SHARD)).toBe(1);
    const elsewhere = (ADMIN_SHARD + 1) % SHARDS;
    expect(await queuedIn(pool, elsewhere)).toBe(0);

    const res = await requestLease({ pool, runner_id: runnerHomedIn(elsewhere) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { task_id: string }).task_id).toBe(task.id);
  });

  it("hands a task to a runner waiting in the task's shard within milliseconds, and steals it within seconds otherwise", async () => {
    const pool = uniquePool();
    const home = requestLease({ pool, runner_id: runnerHomedIn(ADMIN_SHARD, "home"), wait_ms: 10_000 });
    await new Promise((r) => setTimeout(r, 100));
    let started = Date.now();
    const first = await createTask({ pool });
    const homeLease = await home;
    expect(homeLease.status).toBe(200);
    expect(((await homeLease.json()) as { task_id: string }).task_id).toBe(first.id);
    expect(Date.now() - started).toBeLessThan(STEAL_EVERY_MS / 2);

    const away = requestLease({ pool, runner_id: runnerHomedIn((ADMIN_SHARD + 2) % SHARDS, "away"), wait_ms: 15_000 });
    await new Promise((r) => setTimeout(r, 100));
    started = Date.now();
    const second = await createTask({ pool });
    const awayLease = await away;
    expect(awayLease.status).toBe(200);
    expect(((await awayLease.json()) as { task_id: string }).task_id).toBe(second.id);
    expect(Date.now() - started).toBeLessThan(STEAL_EVERY_MS + 3_000);
  });

  it("holds a key's max_concurrent_tasks across runners homed in every shard", async () => {
    const pool = uniquePool();
    const key = await createKey({ limits: { max_concurrent_tasks: 1 } });
    const tasks = [await createTaskAs(key.key, { pool }), await createTaskAs(key.key, { pool })];
    const statuses = [];
    for (let shard = 0; shard < SHARDS; shard++) statuses.push((await requestLease({ pool, runner_id: runnerHomedIn(shard, "limited") })).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect((await Promise.all(tasks.map((t) => getTask(t.id)))).map((t) => t.status).sort()).toEqual(["leased", "queued"]);
  });

  it("lists each runner once and adds up every shard's queue in the pool's gauges", async () => {
    const pool = uniquePool();
    // A key whose tasks queue in another shard than the admin key's.
    let key = await createKey();
    while (shardOf(key.id, SHARDS) === ADMIN_SHARD) key = await createKey();
    await createTask({ pool, cli: "claude" });
    await createTaskAs(key.key, { pool, cli: "claude" });
    await createTaskAs(key.key, { pool, cli: "claude" });
    expect(await queuedIn(pool, ADMIN_SHARD)).toBe(1);
    expect(await queuedIn(pool, shardOf(key.id, SHARDS))).toBe(2);

    for (const id of ["demo-a", "demo-b"]) expect((await requestLease({ pool, runner_id: id, clis: ["demo"] })).status).toBe(204);
    // The list and the gauges read what each shard pushed to the pool registry, added up per pool.
    const listed = await vi.waitFor(
      async () => {
        const page = RunnerList.parse(await (await apiFetch(`/api/v1/runners?pool=${pool}`)).json());
        if (page.runners.length < 2) throw new Error("not pushed yet");
        return page.runners;
      },
      { timeout: 5_000, interval: 50 },
    );
    expect(listed.map((r) => r.id)).toEqual(["demo-a", "demo-b"]);
    await vi.waitFor(
      async () => {
        const text = await (await SELF.fetch("https://codeforge.test/metrics")).text();
        expect(text).toContain(`codeforge_pool_queue_depth{pool="${pool}"} 3`);
      },
      { timeout: 5_000, interval: 50 },
    );

    expect(await dispatcherOf(pool).gauges()).toMatchObject({ queued: 3, runnersTotal: 2, runnersActive: 0 });
    // Every shard heard of both runners: a task waiting in any of them knows none offers claude.
    const task = await createTaskAs(key.key, { pool, cli: "claude" });
    expect(task.waiting_reason).toBe(`no runner in pool ${pool} offers cli claude`);
  });
});
