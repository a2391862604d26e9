/**
 * Integration: follow-ups (`POST /api/v1/tasks/:id/instructions`) through the real Worker and
 * task objects in workerd. A follow-up starts iteration n+1 of an ended task; each iteration
 * keeps its own status sequence, attempts, result and secrets; the log shows them in order.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { AuditPage } from "#api/audit.js";
import type { Lease } from "#api/runner-protocol.js";
import { Task } from "#api/task.js";
import type { FollowUpRequest } from "#api/task-request.js";
import type { TaskResult } from "#api/task-result.js";
import { allEvents, apiFetch, createTask, expectError, getTask, taskObjectOf, uniquePool } from "./api-client.js";
import { createKey, createTaskAs } from "./key-client.js";
import { complete, heartbeat, outputEvents, postEvents, requestLease, sampleResult, startRunning, takeLease } from "./runner-client.js";
import { openStream, within } from "./stream-watcher.js";

const START_SHA = "c".repeat(40);

function resultWith(overrides: Partial<TaskResult> = {}): TaskResult {
  return { ...sampleResult(), patch: "diff --git a/NOTES.md b/NOTES.md\n+- first\n", base_commit_sha: START_SHA, ...overrides };
}

function followUp(id: string, json: unknown, options: { key?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  return apiFetch(`/api/v1/tasks/${id}/instructions`, { json, key: options.key, headers: options.headers });
}

async function followUpOk(id: string, json: Partial<FollowUpRequest> & { prompt: string }): Promise<Task> {
  const res = await followUp(id, json);
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(202);
  return Task.parse(body);
}

/** Runs the task's current iteration to `outcome` as a runner would, with one output batch. */
async function runIteration(pool: string, outcome: { outcome: "succeeded" | "failed"; result: TaskResult | null }): Promise<Lease> {
  const lease = await startRunning(pool);
  expect((await postEvents(lease.task_id, lease.lease_id, 1, outputEvents(1, `iteration ${lease.task.iteration}`))).status).toBe(200);
  const res = await complete(lease.task_id, lease.lease_id, { ...outcome, last_batch_seq: 1 });
  expect(res.status, await res.clone().text()).toBe(200);
  return lease;
}

const sealedSecrets = (id: string) =>
  runInDurableObject(taskObjectOf(id), (_i, state) => state.storage.sql.exec<{ secrets: string | null }>("SELECT secrets FROM task").one().secrets);

describe("follow-ups", () => {
  it("say why the new iteration waits, as a new task does", async () => {
    const pool = uniquePool();
    const created = await createTask({ pool });
    await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    // The pool's only runner (capacity 1) is now busy with another task.
    await createTask({ pool });
    await startRunning(pool);
    const task = await followUpOk(created.id, { prompt: "Second request" });
    expect(task).toMatchObject({ status: "queued", iteration: 2, waiting_reason: `the one runner in pool ${pool} able to run it is busy` });
    expect((await getTask(created.id)).waiting_reason).toBe(`the one runner in pool ${pool} able to run it is busy`);
  });

  it("start iteration 2 on the previous patch; each iteration keeps its result and its own status sequence", async () => {
    const pool = uniquePool();
    const created = await createTask({ pool, prompt: "First request", max_attempts: 2 });
    expect(created).toMatchObject({ iteration: 1, iterations: [{ n: 1, prompt: "First request", status: "queued", first_seq: 1 }] });
    expect(created.links.instructions).toBe(`/api/v1/tasks/${created.id}/instructions`);
    const first = await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    expect(first.task).toMatchObject({ iteration: 1, base: null, prompt: "First request" });

    const task = await followUpOk(created.id, { prompt: "Second request", timeout_seconds: 60 });
    expect(task).toMatchObject({
      status: "queued",
      iteration: 2,
      prompt: "Second request",
      timeout_seconds: 60,
      attempt: 0,
      result: null,
      error: null,
      started_at: null,
      finished_at: null,
    });
    expect(task.iterations).toHaveLength(2);
    const { patch: _patch, ...firstWithoutPatch } = resultWith();
    expect(task.iterations[0]).toMatchObject({ n: 1, prompt: "First request", status: "succeeded", attempt: 1, result: firstWithoutPatch, error: null });
    expect(task.iterations[0]!.result).not.toHaveProperty("patch");
    expect(task.iterations[1]).toMatchObject({ n: 2, prompt: "Second request", status: "queued", attempt: 0, result: null });

    // Any free runner takes it, starting from the previous patch on the starting commit.
    const second = await runIteration(pool, { outcome: "succeeded", result: resultWith({ patch: "diff --git a/NOTES.md b/NOTES.md\n+- first\n+- second\n" }) });
    expect(second).toMatchObject({
      attempt: 1,
      task: { iteration: 2, prompt: "Second request", timeout_seconds: 60, base: { kind: "patch", patch: resultWith().patch, commit_sha: START_SHA } },
    });

    const done = await getTask(created.id);
    expect(done).toMatchObject({ status: "succeeded", iteration: 2, attempt: 1, result: { patch: expect.stringContaining("+- second") } });
    expect(done.iterations.map((i) => [i.n, i.status])).toEqual([
      [1, "succeeded"],
      [2, "succeeded"],
    ]);

    // The log: iteration 1's events, the boundary, iteration 2's events — in one sequence.
    const events = await allEvents(created.id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const summary = events.map((e) => `${e.iteration}.${e.attempt} ${e.type}${e.type === "status" ? `:${e.status}` : ""}`);
    expect(summary).toEqual([
      "1.0 status:queued",
      "1.1 status:leased",
      "1.1 status:running",
      "1.1 output",
      "1.1 result",
      "1.1 status:succeeded",
      "2.0 iteration",
      "2.0 status:queued",
      "2.1 status:leased",
      "2.1 status:running",
      "2.1 output",
      "2.1 result",
      "2.1 status:succeeded",
    ]);
    const boundary = events.find((e) => e.type === "iteration")!;
    expect(boundary).toMatchObject({ iteration: 2, prompt: "Second request" });
    expect(done.iterations[1]!.first_seq).toBe(boundary.seq);
  });

  it("streams the new iteration live to a watcher that connects from its first event", async () => {
    const pool = uniquePool();
    const created = await createTask({ pool });
    await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    const task = await followUpOk(created.id, { prompt: "Again" });
    const since = task.iterations[1]!.first_seq - 1;
    const watcher = await openStream(created.id, since);
    await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    await within(watcher.closed, 5_000, "stream close");
    const frames = watcher.frames;
    expect(frames[0]).toMatchObject({ seq: since + 1, type: "iteration", iteration: 2 });
    expect(frames.every((f) => f.iteration === 2)).toBe(true);
    expect(frames.at(-1)).toMatchObject({ type: "status", status: "succeeded" });
  });

  it("keep the task's autonomy and egress_allow, which a follow-up cannot change", async () => {
    const pool = uniquePool();
    const created = await createTask({ pool, autonomy: "edits", egress_allow: ["api.example.com", "*.packages.example.org"] });
    await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    await expectError(await followUp(created.id, { prompt: "Wider", autonomy: "full" }), 400, "validation_failed", "autonomy");
    await expectError(await followUp(created.id, { prompt: "Wider", egress_allow: ["*.example.com"] }), 400, "validation_failed", "egress_allow");

    const task = await followUpOk(created.id, { prompt: "Second request" });
    expect(task).toMatchObject({ iteration: 2, autonomy: "edits", egress_allow: ["api.example.com", "*.packages.example.org"] });
    const second = await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    expect(second.task).toMatchObject({ iteration: 2, autonomy: "edits", egress_allow: ["api.example.com", "*.packages.example.org"] });
  });

  it("is refused while the task is queued or running (409), then accepted once it ends", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const queued = await expectError(await followUp(task.id, { prompt: "More" }), 409, "invalid_state");
    expect(queued.error.message).toMatch(/task is queued/);
    const lease = await startRunning(pool);
    const running = await expectError(await followUp(task.id, { prompt: "More" }), 409, "invalid_state");
    expect(running.error.message).toMatch(/task is running.*once it has ended/);
    expect((await getTask(task.id)).iteration).toBe(1);
    expect((await complete(task.id, lease.lease_id, { outcome: "failed", last_batch_seq: 0, error: { code: "cli_failed", message: "boom" } })).status).toBe(
      200,
    );
    // A failed iteration without a result: the follow-up starts again from repo.ref.
    await followUpOk(task.id, { prompt: "More" });
    const next = await takeLease({ pool });
    expect(next.task).toMatchObject({ iteration: 2, base: null, prompt: "More" });
    // The old lease is fenced off from the new iteration.
    expect((await heartbeat(task.id, lease.lease_id)).status).toBe(409);
  });

  it("builds on the newest result: a later iteration without one does not lose the earlier change", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    await followUpOk(task.id, { prompt: "Second" });
    await runIteration(pool, { outcome: "failed", result: null });
    await followUpOk(task.id, { prompt: "Third" });
    const third = await takeLease({ pool });
    expect(third.task).toMatchObject({ iteration: 3, base: { kind: "patch", patch: resultWith().patch } });
  });

  it("is refused when the last patch was cut and nothing was pushed, saying why", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    await runIteration(pool, { outcome: "succeeded", result: resultWith({ patch_truncated: true }) });
    const body = await expectError(await followUp(task.id, { prompt: "More" }), 409, "invalid_state");
    expect(body.error.message).toMatch(/cut at the size cap.*push: true/);
    expect(await getTask(task.id)).toMatchObject({ status: "succeeded", iteration: 1 });
  });

  it("is refused (409 patch_masked) when the last patch had a secret masked in it and nothing was pushed", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool, max_attempts: 1 });
    await runIteration(pool, { outcome: "failed", result: resultWith({ patch_masked: true }) });
    const body = await expectError(await followUp(task.id, { prompt: "Fix it" }), 409, "patch_masked");
    expect(body.error.message).toMatch(/secrets.*masked/);
    const after = await getTask(task.id);
    expect(after).toMatchObject({ status: "failed", iteration: 1, result: { patch_masked: true } });
    expect(after.iterations).toHaveLength(1);
    // No runner is offered anything.
    expect((await requestLease({ pool })).status).toBe(204);
  });

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

  it("are refused after the most iterations a task may have", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    let last = await getTask(task.id);
    for (let n = 1; n <= 20; n++) {
      await runIteration(pool, { outcome: "succeeded", result: resultWith() });
      if (n < 20) last = await followUpOk(task.id, { prompt: `Iteration ${n + 1}` });
    }
    expect(last.iteration).toBe(20);
    const refused = await expectError(await followUp(task.id, { prompt: "One more" }), 409, "invalid_state");
    expect(refused.error.message).toMatch(/20 iterations/);
  });
});

describe("follow-up secrets", () => {
  const tag = () => crypto.randomUUID().replaceAll("-", "");

  it("must be given again (they were erased when the iteration ended), go to the new lease only, and are erased again", async () => {
    const pool = uniquePool();
    const t1 = `ghp_first${tag()}`;
    const k1 = `sk-ant-first-${tag()}`;
    const task = await createTask({ pool, access_token: t1, env: { ANTHROPIC_API_KEY: k1 } });
    await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    expect(await sealedSecrets(task.id)).toBeNull();

    await expectError(await followUp(task.id, { prompt: "More" }), 400, "validation_failed", "access_token");
    const noEnv = await expectError(await followUp(task.id, { prompt: "More", access_token: "ghp_x" }), 400, "validation_failed", "env");
    expect(noEnv.error.message).toContain("ANTHROPIC_API_KEY");
    expect((await getTask(task.id)).iteration).toBe(1);

    const t2 = `ghp_second${tag()}`;
    const k2 = `sk-ant-second-${tag()}`;
    const res = await followUp(task.id, { prompt: "More", access_token: t2, env: { ANTHROPIC_API_KEY: k2, EXTRA: "x" } });
    const text = await res.text();
    expect(res.status, text).toBe(202);
    for (const secret of [t1, k1, t2, k2]) expect(text).not.toContain(secret);
    expect(Task.parse(JSON.parse(text))).toMatchObject({ has_access_token: true, env_names: ["ANTHROPIC_API_KEY", "EXTRA"] });
    expect(await sealedSecrets(task.id)).not.toBeNull();

    const lease = await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    expect(lease.task).toMatchObject({ access_token: t2, env: { ANTHROPIC_API_KEY: k2, EXTRA: "x" } });
    expect(await sealedSecrets(task.id)).toBeNull();
    const everything = JSON.stringify(await allEvents(task.id)) + JSON.stringify(await getTask(task.id));
    for (const secret of [t1, k1, t2, k2]) expect(everything).not.toContain(secret);
  });

  it("under a race, start one iteration: a retry with the same key is answered, another follow-up refused", async () => {
    const pool = uniquePool();
    const token = `ghp_race${tag()}`;
    const task = await createTask({ pool, access_token: token });
    await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    // With secrets, each request awaits their sealing before it decides: the window a race needs.
    const headers = { "idempotency-key": `race-${tag()}` };
    const same = await Promise.all([1, 2].map(() => followUp(task.id, { prompt: "Once", access_token: token }, { headers })));
    expect(same.map((r) => r.status).sort()).toEqual([200, 202]);
    const other = await Promise.all([1, 2].map(() => followUp(task.id, { prompt: "Twice", access_token: token })));
    expect(other.map((r) => r.status)).toEqual([409, 409]); // iteration 2 is queued: not ended
    const after = await getTask(task.id);
    expect(after).toMatchObject({ iteration: 2, prompt: "Once" });
    expect(after.iterations).toHaveLength(2);

    // Two different follow-ups of an ended task at once: one starts iteration 3, one is refused.
    await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    const racing = await Promise.all(["A", "B"].map((p) => followUp(task.id, { prompt: p, access_token: token })));
    expect(racing.map((r) => r.status).sort()).toEqual([202, 409]);
    expect((await getTask(task.id)).iterations.map((i) => i.n)).toEqual([1, 2, 3]);
  });

  it("are not needed when the task had none", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    expect(await followUpOk(task.id, { prompt: "More" })).toMatchObject({ has_access_token: false, env_names: [] });
    expect((await takeLease({ pool })).task).toMatchObject({ access_token: null, env: {} });
  });
});
