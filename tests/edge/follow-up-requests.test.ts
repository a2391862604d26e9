/**
 * Integration: a follow-up request (`POST /api/v1/tasks/:id/instructions`) through the real
 * Worker in workerd — who may send one (the task's own key, with `tasks:write`), what a bad one
 * gets (404, 400, 405, nothing half-written), its audit entries, Idempotency-Key retries, and the
 * key's queue and rate limits, which count it as a submission.
 */
import { describe, expect, it, vi } from "vitest";
import { AuditPage } from "#api/audit.js";
import { Task } from "#api/task.js";
import { apiFetch, createTask, expectError, getTask, uniquePool } from "./api-client.js";
import { followUp, resultWith, runIteration } from "./follow-up-client.js";
import { createKey, createTaskAs } from "./key-client.js";
import { complete, takeLease } from "./runner-client.js";

describe("follow-ups", () => {
  it("answers 404 for an unknown task and for another key's, 400 for a bad body, 405 for GET", async () => {
    await expectError(await followUp("tsk_0000000000aaaaaaaaaaaaaaaa", { prompt: "x" }), 404, "not_found");
    await expectError(await followUp("not-a-task", { prompt: "x" }), 404, "not_found");
    const alice = await createKey({ name: "alice" });
    const bob = await createKey({ name: "bob" });
    const pool = uniquePool();
    const theirs = await createTaskAs(alice.key, { pool });
    await expectError(await followUp(theirs.id, { prompt: "x" }, { key: bob.key }), 404, "not_found");

    const task = await createTask({ pool: uniquePool() });
    await expectError(await followUp(task.id, {}), 400, "validation_failed", "prompt");
    await expectError(await followUp(task.id, { prompt: "" }), 400, "validation_failed", "prompt");
    await expectError(await followUp(task.id, { prompt: "x", cli: "claude" }), 400, "validation_failed");
    await expectError(await followUp(task.id, { prompt: "x", timeout_seconds: 5 }), 400, "validation_failed", "timeout_seconds");
    await expectError(await followUp(task.id, { prompt: "x", env: { PATH: "/tmp" } }), 400, "validation_failed");
    await expectError(
      await apiFetch(`/api/v1/tasks/${task.id}/instructions`, { body: "{", headers: { "content-type": "application/json" } }),
      400,
      "invalid_json",
    );
    const get = await apiFetch(`/api/v1/tasks/${task.id}/instructions`);
    await expectError(get, 405, "method_not_allowed");
    // Nothing was half-written by any of them.
    expect(await getTask(task.id)).toMatchObject({ status: "queued", iteration: 1, iterations: [{ n: 1 }] });
  });

  it("needs tasks:write, and is audited as task.follow_up, refusals too", async () => {
    const reader = await createKey({ scopes: ["tasks:read"] });
    const task = await createTaskAs((await createKey()).key, { pool: uniquePool() });
    await expectError(await followUp(task.id, { prompt: "x" }, { key: reader.key }), 403, "forbidden");

    const writer = await createKey();
    const pool = uniquePool();
    const mine = await createTaskAs(writer.key, { pool });
    await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    const requestId = `audit-${crypto.randomUUID()}`;
    expect((await followUp(mine.id, { prompt: "More" }, { key: writer.key, headers: { "x-request-id": requestId } })).status).toBe(202);
    const refusedId = `audit-${crypto.randomUUID()}`;
    await followUp(mine.id, { prompt: "More" }, { key: writer.key, headers: { "x-request-id": refusedId } });
    const entries = await vi.waitFor(
      async () => {
        const res = await apiFetch(`/api/v1/audit?${new URLSearchParams({ action: "task.follow_up", limit: "500" })}`);
        const page = AuditPage.parse(await res.json());
        const found = page.entries.filter((e) => e.request_id === requestId || e.request_id === refusedId);
        if (found.length < 2) throw new Error("audit entries not written yet");
        return found;
      },
      { timeout: 5_000, interval: 20 },
    );
    const byId = new Map(entries.map((e) => [e.request_id, e]));
    expect(byId.get(requestId)).toMatchObject({ actor: writer.id, action: "task.follow_up", target: mine.id, outcome: "success", error_code: null });
    expect(byId.get(refusedId)).toMatchObject({ action: "task.follow_up", target: mine.id, outcome: "failure", error_code: "invalid_state" });
  });

  it("honours Idempotency-Key: a retry answers the same iteration, another body under the key is a 409", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    const headers = { "idempotency-key": `fu-${crypto.randomUUID()}` };
    const first = await followUp(task.id, { prompt: "Again" }, { headers });
    expect(first.status).toBe(202);
    const retry = await followUp(task.id, { prompt: "Again" }, { headers });
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(Task.parse(await retry.json())).toMatchObject({ iteration: 2, iterations: [{ n: 1 }, { n: 2 }] });
    await expectError(await followUp(task.id, { prompt: "Something else" }, { headers }), 409, "idempotency_conflict");
    expect((await getTask(task.id)).iteration).toBe(2);
  });

  it("queue like a new task: a key at its max_queued_tasks gets 429 and the task stays as it was", async () => {
    const key = await createKey({ limits: { max_queued_tasks: 1 } });
    const pool = uniquePool();
    const task = await createTaskAs(key.key, { pool });
    const lease = await takeLease({ pool });
    expect((await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: resultWith() })).status).toBe(200);
    await createTaskAs(key.key, { pool }); // fills the key's one queue place
    const refused = await expectError(await followUp(task.id, { prompt: "More" }, { key: key.key }), 429, "rate_limited");
    expect(refused.error.message).toMatch(/max_queued_tasks/);
    expect(await getTask(task.id)).toMatchObject({ status: "succeeded", iteration: 1 });
  });

  it("count against the key's tasks rate limit, like submissions", async () => {
    const key = await createKey({ limits: { tasks_per_minute: 1 } });
    const pool = uniquePool();
    const task = await createTaskAs(key.key, { pool });
    const lease = await takeLease({ pool });
    expect((await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: resultWith() })).status).toBe(200);
    const refused = await followUp(task.id, { prompt: "More" }, { key: key.key });
    expect(refused.headers.get("ratelimit-policy")).toMatch(/"tasks";q=1;w=60/);
    await expectError(refused, 429, "rate_limited");
    expect((await getTask(task.id)).iteration).toBe(1);
  });
});
