/**
 * Integration: an API key's monthly spend (`KeyLimits.monthly_spend_usd`) through the real
 * Worker, task objects and spend meters in workerd. Each ended attempt is charged once — its
 * result's `cost_usd`, else its last usage event's — however often its completion is retried;
 * a key at its limit submits nothing (402) until the month (UTC) ends; the key view shows the
 * month's spend. The clock is set with `vi.setSystemTime` to cross a month.
 */
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiKey } from "#api/keys.js";
import type { UsageEvent } from "#api/stream-events.js";
import { TaskList } from "#api/task-queries.js";
import type { TaskResult } from "#api/task-result.js";
import { env } from "cloudflare:test";
import { apiFetch, createTask, expectError, getTask, taskObjectOf, taskSpec, uniquePool } from "./api-client.js";
import { advanceClock, fireAlarm } from "./clock.js";
import { createKey, createTaskAs } from "./key-client.js";
import { complete, postEvents, runnerPost, sampleResult, startRunning } from "./runner-client.js";

const LEASE_TTL_MS = 30_000;

afterEach(() => {
  vi.useRealTimers();
});

function usage(costUsd: number | null): UsageEvent {
  return { type: "usage", calls: 1, input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, cost_usd: costUsd };
}

function result(costUsd: number | null, overrides: Partial<TaskResult> = {}): TaskResult {
  return { ...sampleResult(), cost_usd: costUsd, base_commit_sha: "c".repeat(40), ...overrides };
}

async function keyView(id: string): Promise<ApiKey> {
  const res = await apiFetch(`/api/v1/keys/${id}`);
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return ApiKey.parse(body);
}

/** Runs one task of `key` in a pool of its own to success with a result costing `costUsd`. */
async function runTaskCosting(key: string, costUsd: number | null): Promise<string> {
  const pool = uniquePool();
  const task = await createTaskAs(key, { pool });
  const lease = await startRunning(pool);
  const res = await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: result(costUsd) });
  expect(res.status, await res.clone().text()).toBe(200);
  return task.id;
}

async function taskCount(key: string): Promise<number> {
  const res = await apiFetch("/api/v1/tasks?limit=100", { key });
  expect(res.status).toBe(200);
  return TaskList.parse(await res.json()).tasks.length;
}

function setClock(iso: string): void {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date(iso));
}

describe("monthly spend per API key", () => {
  it("counts each completed attempt's result cost once, however often its completion is retried", async () => {
    const key = await createKey({ limits: { monthly_spend_usd: 10 } });
    expect(await keyView(key.id)).toMatchObject({ spend_this_month_usd: 0, limits: { monthly_spend_usd: 10 } });

    const pool = uniquePool();
    const task = await createTaskAs(key.key, { pool });
    const lease = await startRunning(pool);
    const report = { outcome: "succeeded" as const, last_batch_seq: 0, result: result(0.4) };
    for (let i = 0; i < 3; i++) expect((await complete(task.id, lease.lease_id, report)).status).toBe(200);
    await runTaskCosting(key.key, 0.35);
    // A result that does not know its cost counts nothing.
    await runTaskCosting(key.key, null);
    expect((await keyView(key.id)).spend_this_month_usd).toBe(0.75);
    // Another key's tasks are not this key's spend.
    expect((await keyView((await createKey()).id)).spend_this_month_usd).toBe(0);
  });

  it("charges attempts that ended without a result by their last usage event", async () => {
    const key = await createKey({ limits: { monthly_spend_usd: 10 } });
    const pool = uniquePool();
    const task = await createTaskAs(key.key, { pool, max_attempts: 3 });
    // Attempt 1: usage, then the runner vanishes.
    const first = await startRunning(pool);
    expect((await postEvents(task.id, first.lease_id, 1, [usage(0.1), usage(0.3)])).status).toBe(200);
    advanceClock(LEASE_TTL_MS + 1_000);
    await fireAlarm(task.id);
    // Attempt 2: usage, then handed back.
    const second = await startRunning(pool);
    expect((await postEvents(task.id, second.lease_id, 1, [usage(0.2)])).status).toBe(200);
    expect((await runnerPost(`/runner/v1/tasks/${task.id}/release`, { lease_id: second.lease_id, reason: "draining" })).status).toBe(200);
    // Attempt 3: fails without a result, after usage.
    const third = await startRunning(pool);
    expect((await postEvents(task.id, third.lease_id, 1, [usage(0.05)])).status).toBe(200);
    expect((await complete(task.id, third.lease_id, { outcome: "failed", last_batch_seq: 1, error: { code: "cli_failed", message: "boom" } })).status).toBe(
      200,
    );
    expect(await getTask(task.id)).toMatchObject({ status: "failed", attempt: 3 });
    expect((await keyView(key.id)).spend_this_month_usd).toBe(0.55);
  });

  it("prefers the result's cost to the usage events' for an attempt that has both", async () => {
    const key = await createKey({ limits: { monthly_spend_usd: 10 } });
    const pool = uniquePool();
    const task = await createTaskAs(key.key, { pool });
    const lease = await startRunning(pool);
    expect((await postEvents(task.id, lease.lease_id, 1, [usage(0.2)])).status).toBe(200);
    expect((await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 1, result: result(0.25) })).status).toBe(200);
    expect((await keyView(key.id)).spend_this_month_usd).toBe(0.25);
  });

  it("refuses submissions at the limit with 402 naming spend, limit and reset, writing nothing; a retry of a made task is answered", async () => {
    const key = await createKey({ limits: { monthly_spend_usd: 0.5 } });
    const pool = uniquePool();
    const made = await createTaskAs(key.key, { pool }, { "Idempotency-Key": "first-task" });
    const lease = await startRunning(pool);
    expect((await complete(made.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: result(0.5) })).status).toBe(200);
    // Listed once the index heard of it (just after its creation was answered).
    await expect.poll(() => taskCount(key.key)).toBe(1);

    const refused = await expectError(await apiFetch("/api/v1/tasks", { key: key.key, json: taskSpec({ pool }) }), 402, "spend_limit_reached");
    const resetsAt = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 1, 1)).toISOString();
    expect(refused.error.message).toContain("$0.5");
    expect(refused.error.message).toContain("monthly_spend_usd");
    expect(refused.error.message).toContain(resetsAt);
    await expectError(
      await apiFetch("/api/v1/tasks", { key: key.key, json: taskSpec({ pool }), headers: { "Idempotency-Key": "new-task" } }),
      402,
      "spend_limit_reached",
    );
    expect(await taskCount(key.key)).toBe(1);
    expect(await keyView(key.id)).toMatchObject({ spend_this_month_usd: 0.5, spend_resets_at: resetsAt });

    // A follow-up is refused the same way, and the task stays as it was.
    await expectError(await apiFetch(`/api/v1/tasks/${made.id}/instructions`, { key: key.key, json: { prompt: "More" } }), 402, "spend_limit_reached");
    expect(await getTask(made.id)).toMatchObject({ status: "succeeded", iteration: 1, iterations: [{ n: 1 }] });

    // The retry of the task it made before the limit is answered as before.
    const replay = await apiFetch("/api/v1/tasks", { key: key.key, json: taskSpec({ pool }), headers: { "Idempotency-Key": "first-task" } });
    expect(replay.status, await replay.clone().text()).toBe(200);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");

    // The bootstrap admin key has no limit; other keys are not held back by this one's.
    await createTask({ pool });
    await createTaskAs((await createKey({ limits: { monthly_spend_usd: 0.5 } })).key, { pool });
  });

  it("lets a key under its limit follow up; past it, a retry of that follow-up is answered and a new one refused", async () => {
    const key = await createKey({ limits: { monthly_spend_usd: 1 } });
    const pool = uniquePool();
    const task = await createTaskAs(key.key, { pool });
    const first = await startRunning(pool);
    expect((await complete(task.id, first.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: result(0.99) })).status).toBe(200);
    const followUp = () =>
      apiFetch(`/api/v1/tasks/${task.id}/instructions`, { key: key.key, json: { prompt: "More" }, headers: { "Idempotency-Key": "again" } });
    const accepted = await followUp();
    expect(accepted.status, await accepted.clone().text()).toBe(202);
    const second = await startRunning(pool);
    expect((await complete(task.id, second.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: result(0.02) })).status).toBe(200);
    expect((await keyView(key.id)).spend_this_month_usd).toBe(1.01);

    const retried = await followUp();
    expect(retried.status, await retried.clone().text()).toBe(200);
    expect(retried.headers.get("idempotent-replayed")).toBe("true");
    await expectError(await apiFetch(`/api/v1/tasks/${task.id}/instructions`, { key: key.key, json: { prompt: "Yet more" } }), 402, "spend_limit_reached");
    expect(await getTask(task.id)).toMatchObject({ iteration: 2, status: "succeeded" });
  });

  it("starts again from 0 when the month (UTC) ends; charges count in the month their attempt ended", async () => {
    setClock("2031-01-31T23:50:00.000Z");
    const key = await createKey({ limits: { monthly_spend_usd: 1 } });
    const pool = uniquePool();
    const task = await createTaskAs(key.key, { pool });
    const lease = await startRunning(pool);
    expect((await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: result(1.2) })).status).toBe(200);
    expect(await keyView(key.id)).toMatchObject({ spend_this_month_usd: 1.2, spend_resets_at: "2031-02-01T00:00:00.000Z" });
    const refused = await expectError(await apiFetch("/api/v1/tasks", { key: key.key, json: taskSpec({ pool }) }), 402, "spend_limit_reached");
    expect(refused.error.message).toContain("2031-01");
    expect(refused.error.message).toContain("2031-02-01T00:00:00.000Z");

    setClock("2031-02-01T00:00:00.000Z");
    expect(await keyView(key.id)).toMatchObject({ spend_this_month_usd: 0, spend_resets_at: "2031-03-01T00:00:00.000Z" });
    const next = await createTaskAs(key.key, { pool });
    expect(next.status).toBe("queued");

    // The meter keeps January's charge under January, should a task's report of it come late.
    const meter = env.SPEND_METERS.get(env.SPEND_METERS.idFromName(key.id));
    expect(await meter.spend(Date.parse("2031-01-15T00:00:00.000Z"))).toMatchObject({ month: "2031-01", spentUsd: 1.2 });
    expect(await meter.charge({ id: "late-report", month: "2031-01", costUsd: 0.1 })).toEqual({ counted: true });
    expect(await meter.charge({ id: "late-report", month: "2031-01", costUsd: 0.1 })).toEqual({ counted: false });
    expect((await keyView(key.id)).spend_this_month_usd).toBe(0);
  });

  it("keeps a charge the meter could not take and sends it from the alarm, once", async () => {
    const key = await createKey({ limits: { monthly_spend_usd: 10 } });
    const pool = uniquePool();
    const task = await createTaskAs(key.key, { pool });
    const lease = await startRunning(pool);
    expect((await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: result(0.3) })).status).toBe(200);
    expect((await keyView(key.id)).spend_this_month_usd).toBe(0.3);
    // As if the meter's answer to attempt 1 had been lost (it is owed again), and a charge of an
    // attempt 2 had not reached it at all: the alarm sends both, and the meter counts each once.
    await runInDurableObject(taskObjectOf(task.id), (_i, state) => {
      state.storage.sql.exec("UPDATE attempt_usage SET charge_due_at = ?", Date.now());
      state.storage.sql.exec(
        "INSERT INTO attempt_usage (iteration, attempt, cost_usd, charge_usd, charge_month, charge_due_at) VALUES (1, 2, 0.2, 0.2, ?, ?)",
        new Date().toISOString().slice(0, 7),
        Date.now(),
      );
    });
    await fireAlarm(task.id);
    const owed = await runInDurableObject(
      taskObjectOf(task.id),
      (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM attempt_usage WHERE charge_due_at IS NOT NULL").one().n,
    );
    expect(owed).toBe(0);
    expect((await keyView(key.id)).spend_this_month_usd).toBe(0.5);
  });

  it("refuses a bad monthly_spend_usd with 400 naming the field", async () => {
    for (const value of [0, -5, "10", 2_000_000]) {
      await expectError(
        await apiFetch("/api/v1/keys", { json: { name: "k", scopes: ["tasks:write"], limits: { monthly_spend_usd: value } } }),
        400,
        "validation_failed",
        "limits.monthly_spend_usd",
      );
    }
  });
});
