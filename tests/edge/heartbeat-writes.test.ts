/**
 * Integration: a heartbeat that only renews its lease writes nothing durable. The renewed
 * deadline is kept in the task object's memory; the stored one is moved (one row, and the alarm)
 * only once fewer than half a TTL is left of it. An object that loses its memory (evicted,
 * restarted) goes by the stored deadline: never later than the real one, at most half a TTL
 * earlier, and a runner heartbeating on time keeps its lease across it.
 *
 * Writes are counted on the object's own storage (`runInDurableObject`): every row any SQL
 * statement wrote (`rowsWritten` of each cursor) and every `setAlarm`.
 */
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createTask, expectError, getTask, taskObjectOf, uniquePool } from "./api-client.js";
import { advanceClock, fireAlarm } from "./clock.js";
import { heartbeat, startRunning } from "./runner-client.js";

const LEASE_TTL_MS = 30_000;
const HEARTBEAT_MS = 2_000;

interface WriteCount {
  rows: number;
  alarms: number;
}

/** Counts, from now on, the rows and alarms the task's object writes (until it is evicted). */
async function countWrites(taskId: string): Promise<() => WriteCount> {
  const cursors: { rowsWritten: number }[] = [];
  const counted = { alarms: 0 };
  await runInDurableObject(taskObjectOf(taskId), (_instance, state) => {
    const sql = state.storage.sql;
    const exec = sql.exec.bind(sql);
    sql.exec = ((query: string, ...bindings: SqlStorageValue[]) => {
      const cursor = exec(query, ...bindings);
      cursors.push(cursor);
      return cursor;
    }) as typeof sql.exec;
    const setAlarm = state.storage.setAlarm.bind(state.storage);
    state.storage.setAlarm = (...args: Parameters<typeof setAlarm>) => {
      counted.alarms++;
      return setAlarm(...args);
    };
  });
  return () => ({ rows: cursors.reduce((sum, c) => sum + c.rowsWritten, 0), alarms: counted.alarms });
}

/** Sends a heartbeat and returns the deadline it was answered with. */
async function renew(taskId: string, leaseId: string): Promise<number> {
  const res = await heartbeat(taskId, leaseId);
  expect(res.status, await res.clone().text()).toBe(200);
  return Date.parse(((await res.json()) as { lease_expires_at: string }).lease_expires_at);
}

describe("heartbeat writes", () => {
  it("writes nothing for a heartbeat that only renews the lease, and stores the deadline once per half TTL", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool);
    const writes = await countWrites(task.id);

    // 30 s of heartbeats every 2 s: each is answered with a full TTL from its own time.
    const perBeat: WriteCount[] = [];
    for (let i = 0; i < LEASE_TTL_MS / HEARTBEAT_MS; i++) {
      const before = writes();
      advanceClock(HEARTBEAT_MS);
      expect(await renew(task.id, lease.lease_id)).toBe(Date.now() + LEASE_TTL_MS);
      const after = writes();
      perBeat.push({ rows: after.rows - before.rows, alarms: after.alarms - before.alarms });
    }
    // The stored deadline (30 s after the first heartbeat) is moved by the 8th, at 16 s, when
    // fewer than 15 s were left; it then lasts past the 15th. Every other heartbeat wrote nothing.
    expect(perBeat.filter((w) => w.rows > 0 || w.alarms > 0)).toEqual([{ rows: 1, alarms: 1 }]);
    expect(perBeat.findIndex((w) => w.rows > 0)).toBe(7);

    // The lease kept in memory is the one that counts: alive until a full TTL after the last heartbeat.
    advanceClock(LEASE_TTL_MS - 1);
    await fireAlarm(task.id);
    expect((await getTask(task.id)).status).toBe("running");
    advanceClock(1);
    await fireAlarm(task.id);
    expect(await getTask(task.id)).toMatchObject({ status: "queued", error: { code: "runner_lost" } });
  });

  it("keeps the lease of a runner heartbeating on time when the object loses its memory", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool);
    for (let i = 0; i < 10; i++) {
      advanceClock(HEARTBEAT_MS);
      await renew(task.id, lease.lease_id);
    }

    await abortAllDurableObjects();
    advanceClock(HEARTBEAT_MS);
    expect(await renew(task.id, lease.lease_id)).toBe(Date.now() + LEASE_TTL_MS);
    expect((await getTask(task.id)).status).toBe("running");
  });

  it("after losing its memory, ends a silent lease by the stored deadline: never later than the real one, at most half a TTL earlier", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool);
    let expiresAt = 0;
    for (let i = 0; i < 10; i++) {
      advanceClock(HEARTBEAT_MS);
      expiresAt = await renew(task.id, lease.lease_id);
    }

    await abortAllDurableObjects();
    // Half a TTL before the real deadline the lease is still held...
    advanceClock(expiresAt - Date.now() - LEASE_TTL_MS / 2);
    await fireAlarm(task.id);
    expect((await getTask(task.id)).status).toBe("running");
    // ...and at the real deadline it is over, though the heartbeats that set it were never stored.
    advanceClock(expiresAt - Date.now());
    await expectError(await heartbeat(task.id, lease.lease_id), 409, "lease_stale");
    await fireAlarm(task.id);
    expect(await getTask(task.id)).toMatchObject({ status: "queued", error: { code: "runner_lost" } });
  });
});
