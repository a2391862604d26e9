/**
 * Integration: what a pool's Dispatcher writes on the hot path. A lease poll that says nothing
 * new writes nothing; what expires (runners gone silent, key slots, handed-out marks) is left
 * out by reads at once and deleted by the Dispatcher's alarm, not by every poll; the runners
 * table has no cap; and numbering a queue entry is an index step, not a scan of the queue.
 *
 * Rows are counted on the Dispatcher's own storage (`runInDurableObject`): every row any SQL
 * statement wrote (`rowsWritten` of each cursor).
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createTask, dispatcherOf, getTask, uniquePool } from "./api-client.js";
import { advanceClock, fireAlarm } from "./clock.js";
import { requestLease, takeLease } from "./runner-client.js";

/** Counts, from now on, the rows the pool's Dispatcher writes. */
async function countRows(pool: string): Promise<() => number> {
  const cursors: { rowsWritten: number }[] = [];
  await runInDurableObject(dispatcherOf(pool), (_instance, state) => {
    const sql = state.storage.sql;
    const exec = sql.exec.bind(sql);
    sql.exec = ((query: string, ...bindings: SqlStorageValue[]) => {
      const cursor = exec(query, ...bindings);
      cursors.push(cursor);
      return cursor;
    }) as typeof sql.exec;
  });
  return () => cursors.reduce((sum, c) => sum + c.rowsWritten, 0);
}

/** Rows written by `action`. */
async function rowsWrittenBy(rows: () => number, action: () => Promise<unknown>): Promise<number> {
  const before = rows();
  await action();
  return rows() - before;
}

const storedRunners = (pool: string) =>
  runInDurableObject(dispatcherOf(pool), (_i, state) =>
    state.storage.sql
      .exec<{ id: string }>("SELECT id FROM runners ORDER BY id")
      .toArray()
      .map((r) => r.id),
  );

describe("dispatcher writes", () => {
  it("writes nothing for a lease poll that says nothing new; a change, or 30 s, writes the runner's row once", async () => {
    const pool = uniquePool();
    expect((await requestLease({ pool, runner_id: "r-1" })).status).toBe(204);
    const rows = await countRows(pool);

    for (let i = 0; i < 5; i++) {
      advanceClock(5_000);
      expect(await rowsWrittenBy(rows, async () => expect((await requestLease({ pool, runner_id: "r-1" })).status).toBe(204))).toBe(0);
    }
    // It says something new (a new label): its row is written (one upsert: SQLite counts 2 rows written).
    expect(await rowsWrittenBy(rows, () => requestLease({ pool, runner_id: "r-1", labels: ["gpu"] }))).toBe(2);
    // Half a minute on, the stored last-seen time is refreshed, once.
    advanceClock(30_000);
    expect(await rowsWrittenBy(rows, () => requestLease({ pool, runner_id: "r-1", labels: ["gpu"] }))).toBe(2);
    expect(await rowsWrittenBy(rows, () => requestLease({ pool, runner_id: "r-1", labels: ["gpu"] }))).toBe(0);
  });

  it("writes nothing for a queued task's re-offer, which keeps its place in the queue", async () => {
    const pool = uniquePool();
    const first = await createTask({ pool });
    const second = await createTask({ pool });
    const rows = await countRows(pool);
    advanceClock(30_000);
    expect(await rowsWrittenBy(rows, () => fireAlarm(first.id))).toBe(0);
    expect((await dispatcherOf(pool).stats()).queued).toBe(2);
    // Still first in line: re-offered, not queued again behind the second.
    expect((await takeLease({ pool })).task_id).toBe(first.id);
    expect((await takeLease({ pool })).task_id).toBe(second.id);
  });

  it("a runner with no free slot takes nothing: its request only keeps it listed", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    expect((await requestLease({ pool, runner_id: "full-1", running: 2, capacity: 2 })).status).toBe(204);
    expect((await getTask(task.id)).status).toBe("queued");
    expect((await requestLease({ pool, runner_id: "full-1", running: 1, capacity: 2 })).status).toBe(200);
    expect((await getTask(task.id)).status).toBe("leased");
  });

  it("leaves out a runner gone silent at once, and deletes it on the alarm, not on a poll", async () => {
    const pool = uniquePool();
    expect((await requestLease({ pool, runner_id: "gone-1" })).status).toBe(204);
    expect(await storedRunners(pool)).toEqual(["gone-1"]);

    advanceClock(121_000);
    expect(await dispatcherOf(pool).runners()).toEqual([]);
    expect((await requestLease({ pool, runner_id: "new-1" })).status).toBe(204);
    expect(await storedRunners(pool)).toEqual(["gone-1", "new-1"]);

    // The stored last-seen time may trail by up to 30 s, so the row goes once that too is past.
    advanceClock(30_000);
    expect(await runDurableObjectAlarm(dispatcherOf(pool))).toBe(true);
    expect(await storedRunners(pool)).toEqual(["new-1"]);
    expect((await dispatcherOf(pool).runners()).map((r) => r.id)).toEqual(["new-1"]);
    // Something is left that can expire: the alarm comes back.
    expect(await runInDurableObject(dispatcherOf(pool), (_i, state) => state.storage.getAlarm())).not.toBeNull();
  });

  it("keeps more than a thousand runners", async () => {
    const pool = uniquePool();
    const dispatcher = dispatcherOf(pool);
    for (let i = 0; i < 1_050; i++) {
      const offer = { runnerId: `r-${String(i).padStart(4, "0")}`, clis: ["demo"], labels: [] };
      await dispatcher.take(offer, 0, { ...offer, version: null, pool, running: 0, capacity: 1 });
    }
    expect(await dispatcher.runners()).toHaveLength(1_050);
    expect(await storedRunners(pool)).toHaveLength(1_050);
  }, 60_000); // 1,050 runner offers, one at a time: slow on a loaded machine

  it("numbers a queue entry with one index step, not a scan of the queue", async () => {
    const pool = uniquePool();
    await createTask({ pool });
    const plan = await runInDurableObject(dispatcherOf(pool), (_i, state) =>
      state.storage.sql
        .exec<{ detail: string }>("EXPLAIN QUERY PLAN SELECT COALESCE(MAX(enqueued_seq), 0) + 1 FROM queue")
        .toArray()
        .map((r) => r.detail),
    );
    expect(plan.join(" ")).toContain("queue_seq");
  });
});
