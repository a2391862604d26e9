/**
 * Integration: a key sees and touches only its own tasks — another key's task is a 404 (not
 * a 403, which would confirm it exists) on every route — while admins see them all.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ORIGIN, apiFetch, expectError, getTask, uniquePool } from "./api-client.js";
import { createKey, createTaskAs } from "./key-client.js";

describe("task ownership", () => {
  it("another key's task is 404 on read, events, stream and cancel; its owner and admins see it", async () => {
    const alice = await createKey({ name: "alice" });
    const bob = await createKey({ name: "bob" });
    const task = await createTaskAs(alice.key, { pool: uniquePool() });

    await expectError(await apiFetch(`/api/v1/tasks/${task.id}`, { key: bob.key }), 404, "not_found");
    await expectError(await apiFetch(`/api/v1/tasks/${task.id}/events`, { key: bob.key }), 404, "not_found");
    await expectError(await apiFetch(`/api/v1/tasks/${task.id}/cancel`, { key: bob.key, method: "POST" }), 404, "not_found");
    const stream = await SELF.fetch(`${ORIGIN}/api/v1/tasks/${task.id}/stream`, { headers: { authorization: `Bearer ${bob.key}`, upgrade: "websocket" } });
    await expectError(stream, 404, "not_found");

    // Bob's refusals changed nothing; Alice and the admin see the task as it was.
    expect((await apiFetch(`/api/v1/tasks/${task.id}`, { key: alice.key })).status).toBe(200);
    expect(await getTask(task.id)).toMatchObject({ id: task.id, status: "queued", cancel_requested: false });
  });

  it("the 404 for another key's task reads exactly like the one for no task at all", async () => {
    const alice = await createKey();
    const bob = await createKey();
    const task = await createTaskAs(alice.key, { pool: uniquePool() });
    const theirs = await expectError(await apiFetch(`/api/v1/tasks/${task.id}`, { key: bob.key }), 404, "not_found");
    const none = await expectError(await apiFetch("/api/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa", { key: bob.key }), 404, "not_found");
    expect(theirs.error.message).toBe(none.error.message);
  });

  it("the same Idempotency-Key from two keys makes two tasks", async () => {
    const alice = await createKey();
    const bob = await createKey();
    const pool = uniquePool();
    const a = await createTaskAs(alice.key, { pool }, { "idempotency-key": "deploy-7" });
    const b = await createTaskAs(bob.key, { pool }, { "idempotency-key": "deploy-7" });
    expect(a.id).not.toBe(b.id);
    await expectError(await apiFetch(`/api/v1/tasks/${a.id}`, { key: bob.key }), 404, "not_found");
  });

  it("a task survives its key's rotation but not its key's revocation", async () => {
    const alice = await createKey();
    const task = await createTaskAs(alice.key, { pool: uniquePool() });
    const rotated = await apiFetch(`/api/v1/keys/${alice.id}/rotate`, { json: { overlap_seconds: 0 } });
    const { key: next } = (await rotated.json()) as { key: string };
    expect((await apiFetch(`/api/v1/tasks/${task.id}`, { key: next })).status).toBe(200);
    await apiFetch(`/api/v1/keys/${alice.id}/revoke`, { method: "POST" });
    await expectError(await apiFetch(`/api/v1/tasks/${task.id}`, { key: next }), 401, "unauthorized");
    expect((await getTask(task.id)).id).toBe(task.id);
  });
});
