/**
 * Integration: the task index is sharded by owner. Each key's tasks are listed in the one shard
 * its id hashes to (and nowhere else); a key's list reads that shard; an admin's list of every
 * key's tasks merges all the shards newest first, in pages whose cursor stays exact across
 * shards, with its filters. The one index from before the shards hands its tasks over.
 */
import { abortAllDurableObjects, env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { TaskList } from "#api/task-queries.js";
import { legacyTaskIndex } from "../../edge/src/task-index/task-index-object.js";
import { shardOf, TASK_INDEX_SHARDS, taskIndexShard } from "../../edge/src/task-index/task-index-shards.js";
import { apiFetch, cancelTask, taskObjectOf, uniquePool } from "./api-client.js";
import { createKey, createTaskAs } from "./key-client.js";

async function listTasks(query: Record<string, string>, key?: string): Promise<TaskList> {
  const res = await apiFetch(`/api/v1/tasks?${new URLSearchParams(query)}`, { key });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return TaskList.parse(body);
}

/** Every task of an admin's listing, page by page; the ids in order and how many pages it took. */
async function listAll(query: Record<string, string>): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: TaskList = await listTasks({ ...query, ...(cursor ? { cursor } : {}) });
    ids.push(...page.tasks.map((t) => t.id));
    cursor = page.next_cursor;
    pages++;
  } while (cursor !== null);
  return { ids, pages };
}

/** Which shards hold a row for `id`. */
async function shardsHolding(id: string): Promise<number[]> {
  const holding: number[] = [];
  for (let shard = 0; shard < TASK_INDEX_SHARDS; shard++) {
    const found = await runInDurableObject(taskIndexShard(env, shard), (_instance, state) =>
      state.storage.sql.exec("SELECT 1 FROM tasks WHERE id = ?", id).toArray(),
    );
    if (found.length) holding.push(shard);
  }
  return holding;
}

/** Keys until at least `shards` different shards hold one, one task each, made in turn. */
async function keysOnShards(shards: number): Promise<{ key: string; id: string }[]> {
  const keys: { key: string; id: string }[] = [];
  while (new Set(keys.map((k) => shardOf(k.id))).size < shards) keys.push(await createKey());
  return keys;
}

describe("the task index, sharded by owner", () => {
  it("lists each key's tasks in its own shard only", async () => {
    const [alice, bob] = await keysOnShards(2);
    const a = await createTaskAs(alice!.key, { pool: uniquePool() });
    const b = await createTaskAs(bob!.key, { pool: uniquePool() });
    await expect.poll(() => shardsHolding(a.id)).toEqual([shardOf(alice!.id)]);
    await expect.poll(() => shardsHolding(b.id)).toEqual([shardOf(bob!.id)]);
    expect(shardOf(alice!.id)).not.toBe(shardOf(bob!.id));
    await expect.poll(async () => (await listTasks({}, alice!.key)).tasks.map((t) => t.id)).toEqual([a.id]);
    await expect.poll(async () => (await listTasks({}, bob!.key)).tasks.map((t) => t.id)).toEqual([b.id]);
  });

  it("merges every shard newest first for an admin, page by page, each task once, filters included", async () => {
    const keys = await keysOnShards(3);
    const pool = uniquePool();
    const made: string[] = [];
    // Round after round over the keys, so neighbours in time sit in different shards.
    for (let round = 0; round < 3; round++) {
      for (const key of keys) made.push((await createTaskAs(key.key, { pool, prompt: `round ${round}` })).id);
    }
    const canceled = [made[1]!, made[made.length - 2]!];
    for (const id of canceled) await cancelTask(id);
    const ours = (ids: string[]) => ids.filter((id) => made.includes(id));
    await expect.poll(async () => ours((await listAll({ limit: "200" })).ids).length, { timeout: 5_000 }).toBe(made.length);
    await expect.poll(async () => ours((await listAll({ status: "canceled", limit: "200" })).ids), { timeout: 5_000 }).toEqual([...canceled].reverse());

    const { ids, pages } = await listAll({ limit: "2" });
    expect(new Set(ids).size).toBe(ids.length);
    expect(ours(ids)).toEqual([...made].reverse());
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(made.length / 2));
    // Any page boundary continues where the last left off, across shards.
    const first = await listTasks({ limit: "5" });
    const rest = await listAll({ limit: "3", cursor: first.next_cursor! });
    expect([...first.tasks.map((t) => t.id), ...rest.ids]).toEqual(ids);
    // Canceled ones only, across shards, in order; and one key's only, from its shard.
    expect(ours((await listAll({ status: "canceled", limit: "1" })).ids)).toEqual([...canceled].reverse());
    const one = keys[0]!;
    expect((await listTasks({ owner: one.id, limit: "200" })).tasks.map((t) => t.id)).toEqual(made.filter((_, i) => i % keys.length === 0).reverse());
  });

  it("takes over what the index from before the shards listed: each task it names reports to its shard", async () => {
    const alice = await createKey();
    const task = await createTaskAs(alice.key, { pool: uniquePool() });
    const shard = taskIndexShard(env, shardOf(alice.id));
    await expect.poll(() => shardsHolding(task.id)).toEqual([shardOf(alice.id)]);
    // As the code before the shards left it: listed in the one index only, owing it nothing,
    // task migration 9 not applied.
    const row = await runInDurableObject(shard, (_instance, state) => {
      const found = { ...state.storage.sql.exec("SELECT * FROM tasks WHERE id = ?", task.id).one() };
      state.storage.sql.exec("DELETE FROM tasks WHERE id = ?", task.id);
      return found;
    });
    await runInDurableObject(legacyTaskIndex(env), (_instance, state) => {
      const columns = Object.keys(row);
      state.storage.sql.exec(`INSERT INTO tasks (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`, ...Object.values(row));
    });
    await runInDurableObject(taskObjectOf(task.id), (_instance, state) => {
      state.storage.sql.exec("UPDATE task SET indexed_version = index_version, index_due_at = NULL");
      state.storage.sql.exec("DELETE FROM _migrations WHERE id = 9");
    });
    await abortAllDurableObjects();
    expect((await listTasks({}, alice.key)).tasks).toEqual([]);

    // Any report to a shard nudges the old index, which wakes the task; the task reports itself.
    await createTaskAs((await createKey()).key, { pool: uniquePool() });
    await expect.poll(async () => (await listTasks({}, alice.key)).tasks.map((t) => t.id), { timeout: 10_000 }).toEqual([task.id]);
    await expect
      .poll(() => runInDurableObject(legacyTaskIndex(env), (_instance, state) => state.storage.sql.exec("SELECT id FROM tasks").toArray().length))
      .toBe(0);
  });
});
