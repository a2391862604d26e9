/**
 * Integration: `GET /api/v1/tasks` lists from the task index, which every task object keeps
 * up to date as an outbox. A key sees its own tasks only, an admin everyone's (or one key's),
 * newest first, in pages, filtered by status; a report lost between a task's creation and the
 * index is made again by the task's alarm.
 *
 * The index hears of a task after its creation was answered (the report is off the create's
 * path), so a list made right after creating is eventually consistent: these tests wait until
 * the tasks they made are listed before asserting on the list, as a client would.
 */
import { abortAllDurableObjects, env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { TaskList } from "#api/task-queries.js";
import { taskIndexFor } from "../../edge/src/task-index/task-index-shards.js";
import { TASK_INDEX_RETRY_MS } from "../../edge/src/task/index-outbox.js";
import { apiFetch, cancelTask, createTask, expectError, taskObjectOf, uniquePool } from "./api-client.js";
import { advanceClock } from "./clock.js";
import { createKey, createTaskAs } from "./key-client.js";
import { complete, sampleResult, startRunning } from "./runner-client.js";

async function listTasks(query: Record<string, string> = {}, key?: string): Promise<TaskList> {
  const res = await apiFetch(`/api/v1/tasks?${new URLSearchParams(query)}`, { key });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return TaskList.parse(body);
}

/** Waits until `ids` are all in the list `key` sees (the index hears of new tasks just after). */
async function untilListed(ids: readonly string[], key?: string, query: Record<string, string> = {}): Promise<void> {
  await expect
    .poll(async () => (await listTasks({ limit: "200", ...query }, key)).tasks.map((t) => t.id), { timeout: 5_000, interval: 20 })
    .toEqual(expect.arrayContaining([...ids]));
}

/** Every task of a listing, following `next_cursor` page by page. */
async function listAll(query: Record<string, string>, key?: string): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: TaskList = await listTasks({ ...query, ...(cursor ? { cursor } : {}) }, key);
    ids.push(...page.tasks.map((t) => t.id));
    cursor = page.next_cursor;
    pages++;
  } while (cursor !== null);
  return { ids, pages };
}

describe("GET /api/v1/tasks", () => {
  it("lists a key's own tasks only, newest first, with what a table needs", async () => {
    const alice = await createKey({ name: "alice" });
    const bob = await createKey({ name: "bob" });
    const pool = uniquePool();
    const a1 = await createTaskAs(alice.key, { pool, prompt: "First of Alice's" });
    const b1 = await createTaskAs(bob.key, { pool });
    const a2 = await createTaskAs(alice.key, { pool, prompt: `Second ${"x".repeat(500)}`, model: "demo-1" });
    await untilListed([a1.id, a2.id], alice.key);
    await untilListed([b1.id], bob.key);

    const list = await listTasks({}, alice.key);
    expect(list.tasks.map((t) => t.id)).toEqual([a2.id, a1.id]);
    expect(list.next_cursor).toBeNull();
    expect(list.tasks[0]).toEqual({
      id: a2.id,
      owner: alice.id,
      status: "queued",
      cli: "demo",
      model: "demo-1",
      repo: { url: "file:///srv/repos/demo.git", ref: "main" },
      pool,
      prompt_excerpt: `Second ${"x".repeat(113)}`,
      created_at: a2.created_at,
      updated_at: expect.any(String),
      finished_at: null,
      error_code: null,
      links: { self: `/api/v1/tasks/${a2.id}` },
    });
    expect((await listTasks({}, bob.key)).tasks.map((t) => t.id)).toEqual([b1.id]);
  });

  it("shows an admin every key's tasks, or one key's with owner", async () => {
    const alice = await createKey();
    const bob = await createKey();
    const pool = uniquePool();
    const a = await createTaskAs(alice.key, { pool });
    const b = await createTaskAs(bob.key, { pool });
    const mine = await createTask({ pool });
    await untilListed([a.id, b.id, mine.id]);

    const all = (await listTasks({ limit: "200" })).tasks.map((t) => t.id);
    expect(all).toEqual(expect.arrayContaining([a.id, b.id, mine.id]));
    expect(all.indexOf(mine.id)).toBeLessThan(all.indexOf(b.id));
    expect(all.indexOf(b.id)).toBeLessThan(all.indexOf(a.id));
    expect((await listTasks({ owner: bob.id })).tasks.map((t) => t.id)).toEqual([b.id]);
    expect((await listTasks({ owner: "admin", limit: "200" })).tasks.map((t) => t.owner)).toEqual(expect.arrayContaining(["admin"]));
    expect(new Set((await listTasks({ owner: "admin", limit: "200" })).tasks.map((t) => t.owner))).toEqual(new Set(["admin"]));
  });

  it("pages with limit and next_cursor: every task once, in order, ids that do not sort by time included", async () => {
    const alice = await createKey();
    const pool = uniquePool();
    const made: string[] = [];
    for (let i = 0; i < 7; i++) made.push((await createTaskAs(alice.key, { pool, prompt: `task ${i}` })).id);
    // Two more with idempotency keys: their ids do not sort by time, the list still does.
    made.push((await createTaskAs(alice.key, { pool }, { "idempotency-key": "zz-late" })).id);
    made.push((await createTaskAs(alice.key, { pool }, { "idempotency-key": "aa-later" })).id);
    await untilListed(made, alice.key);

    const { ids, pages } = await listAll({ limit: "2" }, alice.key);
    expect(pages).toBe(5);
    expect(ids).toEqual([...made].reverse());
    const first = await listTasks({ limit: "4" }, alice.key);
    const rest = await listTasks({ limit: "200", cursor: first.next_cursor! }, alice.key);
    expect([...first.tasks, ...rest.tasks].map((t) => t.id)).toEqual(ids);
  });

  it("filters by status, and follows each task's status as it changes", async () => {
    const alice = await createKey();
    const pool = uniquePool();
    const done = await createTaskAs(alice.key, { pool });
    const canceled = await createTaskAs(alice.key, { pool });
    const waiting = await createTaskAs(alice.key, { pool });
    const lease = await startRunning(pool);
    expect(lease.task_id).toBe(done.id);
    await cancelTask(canceled.id);
    await expect.poll(async () => (await listTasks({ status: "running" }, alice.key)).tasks.map((t) => t.id)).toEqual([done.id]);
    await expect
      .poll(async () => (await listTasks({ status: "canceled" }, alice.key)).tasks)
      .toEqual([expect.objectContaining({ id: canceled.id, status: "canceled", error_code: "canceled", finished_at: expect.any(String) })]);
    await expect.poll(async () => (await listTasks({ status: "queued" }, alice.key)).tasks.map((t) => t.id)).toEqual([waiting.id]);

    await complete(done.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: sampleResult() });
    await expect.poll(async () => (await listTasks({ status: "succeeded" }, alice.key)).tasks.map((t) => t.id)).toEqual([done.id]);
    expect((await listTasks({ status: "running" }, alice.key)).tasks).toEqual([]);
  });

  it("refuses a bad query with 400 naming the parameter, and another key's owner with 403", async () => {
    const alice = await createKey();
    const bob = await createKey();
    await expectError(await apiFetch("/api/v1/tasks?limit=0"), 400, "validation_failed", "limit");
    await expectError(await apiFetch("/api/v1/tasks?limit=201"), 400, "validation_failed", "limit");
    await expectError(await apiFetch("/api/v1/tasks?limit=ten"), 400, "validation_failed", "limit");
    await expectError(await apiFetch("/api/v1/tasks?status=done"), 400, "validation_failed", "status");
    await expectError(await apiFetch("/api/v1/tasks?cursor=tsk_0000000000aaaaaaaaaaaaaaaa"), 400, "validation_failed", "cursor");
    await expectError(await apiFetch("/api/v1/tasks?owner=bob"), 400, "validation_failed", "owner");
    await expectError(await apiFetch("/api/v1/tasks?sort=asc"), 400, "validation_failed");
    await expectError(await apiFetch(`/api/v1/tasks?owner=${bob.id}`, { key: alice.key }), 403, "forbidden", "owner");
    expect((await listTasks({ owner: alice.id }, alice.key)).tasks).toEqual([]);
    const writer = await createKey({ scopes: ["tasks:write"] });
    await expectError(await apiFetch("/api/v1/tasks", { key: writer.key }), 403, "forbidden");
    await expectError(await apiFetch("/api/v1/tasks", { key: null }), 401, "unauthorized");
    await expectError(await apiFetch("/api/v1/tasks", { method: "PUT" }), 405, "method_not_allowed");
  });

  it("answers a create without waiting for the index: the task is listed once the index is free again", async () => {
    const alice = await createKey();
    // The index is held busy: a create that waited for its report would not answer until released.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding = false;
    const hold = runInDurableObject(taskIndexFor(env, alice.id), (_instance, state) =>
      state.blockConcurrencyWhile(async () => {
        holding = true;
        await held;
      }),
    );
    await vi.waitUntil(() => holding);
    try {
      const task = await createTaskAs(alice.key, { pool: uniquePool() });
      expect(task.status).toBe("queued");
      expect((await apiFetch(`/api/v1/tasks/${task.id}`, { key: alice.key })).status).toBe(200);
      release();
      await hold;
      await untilListed([task.id], alice.key);
    } finally {
      release();
    }
  });

  it("stores the index's acknowledgement of a new task with the task's next write, not a write of its own", async () => {
    const alice = await createKey();
    const pool = uniquePool();
    const task = await createTaskAs(alice.key, { pool });
    await untilListed([task.id], alice.key);
    const stored = () =>
      runInDurableObject(taskObjectOf(task.id), async (_instance, state) => ({
        ...state.storage.sql
          .exec<{ v: number; done: number; due: number | null }>("SELECT index_version AS v, indexed_version AS done, index_due_at AS due FROM task")
          .one(),
        alarm: await state.storage.getAlarm(),
      }));
    // Listed, yet still owed as stored: the alarm falls at the report's deadline anyway (the
    // queued task's re-offer check), so the acknowledgement waits for the next write.
    const created = Date.parse(task.created_at);
    expect(await stored()).toEqual({ v: 1, done: 0, due: created + TASK_INDEX_RETRY_MS, alarm: created + TASK_INDEX_RETRY_MS });
    // The lease is the next write: it stores the acknowledgement (and owes the index the lease).
    await startRunning(pool);
    await expect.poll(async () => (await stored()).done).toBeGreaterThanOrEqual(1);
    await expect.poll(async () => (await listTasks({ status: "running" }, alice.key)).tasks.map((t) => t.id)).toEqual([task.id]);
  });

  it("a report lost between creating the task and the index is made again by the task's alarm", async () => {
    const alice = await createKey();
    const task = await createTaskAs(alice.key, { pool: uniquePool() });
    await untilListed([task.id], alice.key);

    // As if the edge died after the task's write and before its report arrived: the index
    // never heard of it, and the task still owes the report (as its insert recorded it).
    await runInDurableObject(taskIndexFor(env, alice.id), (_instance, state) => {
      state.storage.sql.exec("DELETE FROM tasks WHERE id = ?", task.id);
    });
    await runInDurableObject(taskObjectOf(task.id), (_instance, state) => {
      state.storage.sql.exec("UPDATE task SET indexed_version = 0, index_due_at = ?", Date.now() + TASK_INDEX_RETRY_MS);
      void state.storage.setAlarm(Date.now() + TASK_INDEX_RETRY_MS);
    });
    // The instance that heard back from the index died with the edge.
    await abortAllDurableObjects();
    expect((await listTasks({}, alice.key)).tasks).toEqual([]);

    advanceClock(TASK_INDEX_RETRY_MS + 1_000);
    expect(await runDurableObjectAlarm(taskObjectOf(task.id))).toBe(true);
    expect((await listTasks({}, alice.key)).tasks.map((t) => [t.id, t.status])).toEqual([[task.id, "queued"]]);
  });

  it("a task whose report is overdue with no alarm to make it (older than the index) reports when it next wakes", async () => {
    const alice = await createKey();
    const task = await createTaskAs(alice.key, { pool: uniquePool() });
    await untilListed([task.id], alice.key);
    const index = taskIndexFor(env, alice.id);
    await runInDurableObject(index, (_instance, state) => {
      state.storage.sql.exec("DELETE FROM tasks WHERE id = ?", task.id);
    });
    // What migration 5 leaves in a task made before it: a report owed at once, and no alarm for it.
    await runInDurableObject(taskObjectOf(task.id), async (_instance, state) => {
      state.storage.sql.exec("UPDATE task SET indexed_version = 0, index_due_at = 0");
      await state.storage.deleteAlarm();
    });
    expect((await listTasks({}, alice.key)).tasks).toEqual([]);

    await abortAllDurableObjects();
    expect((await apiFetch(`/api/v1/tasks/${task.id}`, { key: alice.key })).status).toBe(200);
    await expect.poll(async () => (await listTasks({}, alice.key)).tasks.map((t) => t.id)).toEqual([task.id]);
  });
});
