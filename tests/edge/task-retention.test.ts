/**
 * Integration: an ended task is kept `TASK_RETENTION_DAYS` (30 here, as in wrangler.toml) after
 * it ended, then deleted by its own alarm — its record, output, patch and index entry — and
 * answers 404 like a task that never was. A follow-up starts the count again.
 */
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { TaskList } from "#api/task-queries.js";
import { apiFetch, getTask, taskObjectOf, uniquePool } from "./api-client.js";
import { advanceClock, fireAlarm } from "./clock.js";
import { createKey, createTaskAs } from "./key-client.js";
import { complete, sampleResult, startRunning } from "./runner-client.js";

const DAY_MS = 86_400_000;
const RETENTION_MS = 30 * DAY_MS;

async function listedIds(key: string): Promise<string[]> {
  const res = await apiFetch("/api/v1/tasks", { key });
  expect(res.status).toBe(200);
  return TaskList.parse(await res.json()).tasks.map((t) => t.id);
}

const alarmOf = (id: string) => runInDurableObject(taskObjectOf(id), (_instance, state) => state.storage.getAlarm());

/** A task of its own key and pool, run to success; returns its id, its key's secret and when it ended. */
async function endedTask(): Promise<{ id: string; key: string; finishedAt: number }> {
  const pool = uniquePool();
  const { key: secret } = await createKey();
  const task = await createTaskAs(secret, { pool });
  const lease = await startRunning(pool);
  // A result a follow-up can start from: the commit it began at, and its patch.
  const result = { ...sampleResult(), patch: "diff --git a/NOTES.md b/NOTES.md\n+- first\n", base_commit_sha: "c".repeat(40) };
  const res = await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0, result });
  expect(res.status, await res.clone().text()).toBe(200);
  const finishedAt = Date.parse((await getTask(task.id)).finished_at!);
  // Once the index and the metrics have their reports, the alarm waits for the end of the retention.
  await vi.waitFor(async () => expect(await alarmOf(task.id)).toBe(finishedAt + RETENTION_MS), { timeout: 5_000 });
  return { id: task.id, key: secret, finishedAt };
}

describe("task retention", () => {
  it("keeps an ended task for 30 days, then deletes it: 404, gone from the list, nothing stored", async () => {
    const { id, key } = await endedTask();
    expect(await listedIds(key)).toEqual([id]);

    // An alarm before the end (another deadline, say) deletes nothing and re-arms for the end.
    advanceClock(RETENTION_MS - DAY_MS);
    await fireAlarm(id);
    expect((await apiFetch(`/api/v1/tasks/${id}`, { key })).status).toBe(200);
    expect(await listedIds(key)).toEqual([id]);

    advanceClock(DAY_MS + 1_000);
    await fireAlarm(id);
    const gone = await apiFetch(`/api/v1/tasks/${id}`, { key });
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ error: { code: "not_found" } });
    expect((await apiFetch(`/api/v1/tasks/${id}/events`, { key })).status).toBe(404);
    expect(await listedIds(key)).toEqual([]);
    const stored = await runInDurableObject(taskObjectOf(id), async (_instance, state) => ({
      tables: state.storage.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%'")
        .toArray()
        .map((r) => r.name),
      alarm: await state.storage.getAlarm(),
    }));
    expect(stored).toEqual({ tables: [], alarm: null });
    // The deletion is in the audit log, for admins.
    await vi.waitFor(async () => {
      const audit = await (await apiFetch(`/api/v1/audit?action=task.delete&target=${id}`)).json();
      expect(audit).toMatchObject({ entries: [{ actor: "system:retention", action: "task.delete", target: id, outcome: "success" }] });
    });
  });

  it("deletes a task that ended before retention existed when it next wakes", async () => {
    const { id, key } = await endedTask();
    // As an older version left it: ended, with no deletion deadline on its alarm.
    await runInDurableObject(taskObjectOf(id), (_instance, state) => state.storage.deleteAlarm());
    advanceClock(RETENTION_MS + DAY_MS);
    await abortAllDurableObjects();
    // The read that wakes it still answers; waking set the alarm that deletes it.
    expect((await apiFetch(`/api/v1/tasks/${id}`, { key })).status).toBe(200);
    await fireAlarm(id);
    expect((await apiFetch(`/api/v1/tasks/${id}`, { key })).status).toBe(404);
    expect(await listedIds(key)).toEqual([]);
  });

  it("counts again from the end of a follow-up", async () => {
    const { id, key, finishedAt } = await endedTask();
    advanceClock(RETENTION_MS - DAY_MS);
    const res = await apiFetch(`/api/v1/tasks/${id}/instructions`, { key, json: { prompt: "One more thing" } });
    expect(res.status, await res.clone().text()).toBe(202);
    // Running again: no deletion deadline while the follow-up waits or runs.
    expect(await alarmOf(id)).not.toBe(finishedAt + RETENTION_MS);
    advanceClock(2 * DAY_MS);
    await fireAlarm(id);
    expect((await apiFetch(`/api/v1/tasks/${id}`, { key })).status).toBe(200);
    expect(await listedIds(key)).toEqual([id]);
  });
});
