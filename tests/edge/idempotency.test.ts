/**
 * Integration: `Idempotency-Key` on `POST /api/v1/tasks`. The same key and body reach the same
 * task (200, `Idempotent-Replayed: true`); the same key with another body is a 409.
 */
import { describe, expect, it } from "vitest";
import { Task } from "#api/task.js";
import { apiFetch, dispatcherOf, expectError, taskSpec, uniquePool } from "./api-client.js";
import { takeLease } from "./runner-client.js";

const create = (json: unknown, key: string) => apiFetch("/api/v1/tasks", { json, headers: { "idempotency-key": key } });

describe("idempotency", () => {
  it("returns the same task for the same key and body, without queuing it twice", async () => {
    const pool = uniquePool();
    const key = `key-${crypto.randomUUID()}`;
    const spec = taskSpec({ pool, priority: 7 });

    const first = await create(spec, key);
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const task = Task.parse(await first.json());

    const replay = await create(spec, key);
    expect(replay.status).toBe(200);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.headers.get("location")).toBe(`/api/v1/tasks/${task.id}`);
    expect(Task.parse(await replay.json())).toEqual(task);

    expect((await dispatcherOf(pool).stats()).queued).toBe(1);
  });

  it("treats the same body with keys in another order or defaults spelled out as the same request", async () => {
    const pool = uniquePool();
    const key = `key-${crypto.randomUUID()}`;
    const first = Task.parse(await (await create({ cli: "demo", prompt: "Fix it", repo: { url: "file:///srv/r.git" }, pool }, key)).json());
    const res = await create({ pool, repo: { url: "file:///srv/r.git" }, prompt: "Fix it", cli: "demo", priority: 5, max_attempts: 3 }, key);
    expect(res.status).toBe(200);
    expect(Task.parse(await res.json()).id).toBe(first.id);
  });

  it("answers 409 for the same key with a different body, and leaves the task alone", async () => {
    const pool = uniquePool();
    const key = `key-${crypto.randomUUID()}`;
    const original = Task.parse(await (await create(taskSpec({ pool, prompt: "First" }), key)).json());

    await expectError(await create(taskSpec({ pool, prompt: "Second" }), key), 409, "idempotency_conflict");
    const lease = await takeLease({ pool });
    expect(lease.task_id).toBe(original.id);
    expect(lease.task.prompt).toBe("First");
  });

  it("still replays after the task has started, showing its current state", async () => {
    const pool = uniquePool();
    const key = `key-${crypto.randomUUID()}`;
    const spec = taskSpec({ pool });
    const original = Task.parse(await (await create(spec, key)).json());
    await takeLease({ pool });
    const replay = await create(spec, key);
    expect(replay.status).toBe(200);
    expect(Task.parse(await replay.json())).toMatchObject({ id: original.id, status: "leased", attempt: 1 });
    expect((await dispatcherOf(pool).stats()).queued).toBe(0);
  });

  it("gives different keys different tasks, and no key a new task every time", async () => {
    const pool = uniquePool();
    const spec = taskSpec({ pool });
    const a = Task.parse(await (await create(spec, `key-${crypto.randomUUID()}`)).json());
    const b = Task.parse(await (await create(spec, `key-${crypto.randomUUID()}`)).json());
    const c = Task.parse(await (await apiFetch("/api/v1/tasks", { json: spec })).json());
    const d = Task.parse(await (await apiFetch("/api/v1/tasks", { json: spec })).json());
    expect(new Set([a.id, b.id, c.id, d.id]).size).toBe(4);
  });
});
