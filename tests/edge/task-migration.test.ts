/**
 * Integration: a task object written by older code wakes under today's and migrates itself.
 *
 * Deployed task objects keep their SQLite databases across releases; each applies the
 * migrations it has not seen when it next wakes (`edge/src/sql/migrations.ts`). These tests
 * take a task made and finished by today's code, turn its database back into what the code
 * before iterations and the task index wrote (schema 4: no `iterations` table, no iteration or
 * index columns, migrations 5 and 6 not recorded), let the object wake again, and check what a
 * client sees: the same task, the same log, listed, and open to a follow-up.
 */
import { abortAllDurableObjects, env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { TaskList } from "#api/task-queries.js";
import type { TaskResult } from "#api/task-result.js";
import { migrate, type Sql } from "../../edge/src/sql/migrations.js";
import { taskIndexFor } from "../../edge/src/task-index/task-index-shards.js";
import { TASK_BASELINE, TASK_MIGRATIONS } from "../../edge/src/task/schema.js";
import { allEvents, apiFetch, createTask, getTask, taskObjectOf, uniquePool } from "./api-client.js";
import { complete, outputEvents, postEvents, sampleResult, startRunning } from "./runner-client.js";

const PATCH = "diff --git a/NOTES.md b/NOTES.md\n+- made before iterations\n";

/** Rewrites a task object's database as schema 4 (the last before iterations) left it. */
async function downgradeToSchema4(taskId: string): Promise<void> {
  await runInDurableObject(taskObjectOf(taskId), (_instance, state) => {
    const sql = state.storage.sql;
    sql.exec("DROP TABLE iterations");
    sql.exec("DROP TABLE attempt_usage");
    sql.exec("DROP TABLE cli_sessions");
    for (const column of ["iteration", "base", "index_version", "indexed_version", "index_due_at"]) sql.exec(`ALTER TABLE task DROP COLUMN ${column}`);
    sql.exec("ALTER TABLE events DROP COLUMN iteration");
    sql.exec("ALTER TABLE deliveries DROP COLUMN iteration");
    sql.exec("DELETE FROM _migrations WHERE id > 4");
    const tables = sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY name")
      .toArray();
    expect(tables.map((t) => t.name)).toEqual(["deliveries", "delivery_attempts", "events", "task"]);
  });
  // The index did not exist then either (the task's owner is the admin key).
  await runInDurableObject(taskIndexFor(env, "admin"), (_instance, state) => {
    state.storage.sql.exec("DELETE FROM tasks WHERE id = ?", taskId);
  });
}

const schemaOf = (taskId: string) =>
  runInDurableObject(taskObjectOf(taskId), (_instance, state) => ({
    migrations: state.storage.sql
      .exec<{ id: number }>("SELECT id FROM _migrations ORDER BY id")
      .toArray()
      .map((r) => r.id),
    iterations: state.storage.sql.exec<{ n: number; prompt: string }>("SELECT n, prompt FROM iterations ORDER BY n").toArray(),
  }));

async function listed(): Promise<string[]> {
  const res = await apiFetch("/api/v1/tasks?limit=100");
  expect(res.status).toBe(200);
  return TaskList.parse(await res.json()).tasks.map((t) => t.id);
}

/** Every table's and index's shape, comparable between two databases (SQL text aside). */
function schemaShape(sql: Sql) {
  const objects = sql
    .exec<{ type: string; name: string; tbl_name: string }>("SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE '_cf%' ORDER BY type, name")
    .toArray()
    .map((o) => ({ ...o }));
  const columns = Object.fromEntries(
    objects
      .filter((o) => o.type === "table")
      .map((t) => [
        t.name,
        sql
          .exec(`PRAGMA table_info(${t.name})`)
          .toArray()
          .map((c) => ({ ...c })),
      ]),
  );
  const indexes = Object.fromEntries(
    objects
      .filter((o) => o.type === "index")
      .map((i) => [
        i.name,
        sql
          .exec(`PRAGMA index_info(${i.name})`)
          .toArray()
          .map((c) => ({ ...c })),
      ]),
  );
  const migrations = sql
    .exec<{ id: number; name: string }>("SELECT id, name FROM _migrations ORDER BY id")
    .toArray()
    .map((m) => ({ ...m }));
  return { objects, columns, indexes, migrations };
}

describe("a new task's schema", () => {
  it("made in one step from the baseline is what the migrations one by one make", async () => {
    const stepByStep = await runInDurableObject(taskObjectOf(`tsk_${"1".repeat(26)}`), (_i, state) => {
      migrate(state.storage.sql, TASK_MIGRATIONS);
      return schemaShape(state.storage.sql);
    });
    const fromBaseline = await runInDurableObject(taskObjectOf(`tsk_${"2".repeat(26)}`), (_i, state) => {
      migrate(state.storage.sql, TASK_MIGRATIONS, TASK_BASELINE);
      return schemaShape(state.storage.sql);
    });
    expect(stepByStep.columns.task!.length).toBeGreaterThan(30);
    expect(stepByStep.migrations.map((m) => m.id)).toEqual(TASK_MIGRATIONS.map((m) => m.id));
    expect(fromBaseline).toEqual(stepByStep);
  });
});

describe("task objects made by older code", () => {
  it("migrate when they wake: the same task and log, listed again, and open to a follow-up", async () => {
    const pool = uniquePool();
    const created = await createTask({ pool, prompt: "Written before iterations" });
    const lease = await startRunning(pool);
    expect((await postEvents(lease.task_id, lease.lease_id, 1, outputEvents(3, "old"))).status).toBe(200);
    const result: TaskResult = { ...sampleResult(), patch: PATCH, base_commit_sha: "d".repeat(40) };
    expect((await complete(lease.task_id, lease.lease_id, { outcome: "succeeded", result, error: null, last_batch_seq: 1 })).status).toBe(200);
    const before = await getTask(created.id);
    const eventsBefore = await allEvents(created.id);
    expect(before).toMatchObject({ status: "succeeded", iteration: 1 });

    await downgradeToSchema4(created.id);
    await abortAllDurableObjects();
    expect(await listed()).not.toContain(created.id);

    // Woken by a read: it migrates, and reads as it did.
    expect(await getTask(created.id)).toEqual(before);
    expect(await schemaOf(created.id)).toEqual({ migrations: [1, 2, 3, 4, 5, 6, 7, 8, 9], iterations: [{ n: 1, prompt: "Written before iterations" }] });
    expect(await allEvents(created.id)).toEqual(eventsBefore);
    // It owed the index a report from the migration, and makes it.
    await expect.poll(listed).toContain(created.id);

    // A follow-up starts iteration 2 on the old iteration's patch.
    const res = await apiFetch(`/api/v1/tasks/${created.id}/instructions`, { json: { prompt: "And now a follow-up" } });
    expect(res.status, await res.clone().text()).toBe(202);
    const second = await startRunning(pool);
    expect(second.task).toMatchObject({ iteration: 2, prompt: "And now a follow-up", base: { kind: "patch", patch: PATCH, commit_sha: "d".repeat(40) } });
    expect((await complete(second.task_id, second.lease_id, { outcome: "succeeded", result: sampleResult(), error: null, last_batch_seq: 0 })).status).toBe(
      200,
    );
    const after = await getTask(created.id);
    expect(after.iterations.map((i) => [i.n, i.prompt, i.status])).toEqual([
      [1, "Written before iterations", "succeeded"],
      [2, "And now a follow-up", "succeeded"],
    ]);
    // The old iteration's events stay first, in their order, under iteration 1.
    const events = await allEvents(created.id);
    expect(events.slice(0, eventsBefore.length)).toEqual(eventsBefore);
    expect(events.slice(eventsBefore.length).every((e) => e.iteration === 2)).toBe(true);
  });
});
