/**
 * Integration: a task's budget (`max_cost_usd`, `max_tokens`, `max_turns`) through the real
 * Worker and task objects in workerd. The budget is stored with the task, shown on it, replaced
 * field by field by a follow-up, and carried in every lease with what earlier attempts of the
 * iteration spent, as their last `usage` events said — whether or not the output cap still
 * stored those events.
 */
import { describe, expect, it } from "vitest";
import type { UsageEvent } from "#api/stream-events.js";
import { Task } from "#api/task.js";
import type { TaskResult } from "#api/task-result.js";
import { allEvents, apiFetch, createTask, expectError, getTask, taskSpec, uniquePool } from "./api-client.js";
import { advanceClock, fireAlarm } from "./clock.js";
import { TEST_OUTPUT_MAX_BYTES } from "./credentials.js";
import { complete, postEvents, runnerPost, sampleResult, startRunning, takeLease } from "./runner-client.js";

const LEASE_TTL_MS = 30_000;

function usage(overrides: Partial<UsageEvent> = {}): UsageEvent {
  return {
    type: "usage",
    calls: 1,
    input_tokens: 100,
    output_tokens: 20,
    cache_read_input_tokens: 0,
    cache_creation_input_tokens: 0,
    cost_usd: 0.01,
    ...overrides,
  };
}

/** Lets the current lease of the task lapse and fires its alarm: the task is re-queued. */
async function loseRunner(taskId: string): Promise<void> {
  advanceClock(LEASE_TTL_MS + 1_000);
  await fireAlarm(taskId);
  expect((await getTask(taskId)).status).toBe("queued");
}

function result(overrides: Partial<TaskResult> = {}): TaskResult {
  return { ...sampleResult(), base_commit_sha: "c".repeat(40), ...overrides };
}

describe("task budgets", () => {
  it("are stored with the task, shown on it and carried in the lease; a task without one shows null", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool, max_cost_usd: 2.5, max_tokens: 150_000, max_turns: 40 });
    expect(task).toMatchObject({ max_cost_usd: 2.5, max_tokens: 150_000, max_turns: 40 });
    expect(await getTask(task.id)).toMatchObject({ max_cost_usd: 2.5, max_tokens: 150_000, max_turns: 40 });
    const lease = await takeLease({ pool });
    expect(lease.task.budget).toEqual({ max_cost_usd: 2.5, max_tokens: 150_000, max_turns: 40, spent_cost_usd: 0, spent_tokens: 0 });

    const plain = await createTask({ pool });
    expect(plain).toMatchObject({ max_cost_usd: null, max_tokens: null, max_turns: null });
    expect((await takeLease({ pool })).task.budget).toEqual({ max_cost_usd: null, max_tokens: null, max_turns: null, spent_cost_usd: 0, spent_tokens: 0 });
  });

  it("refuses bad values with 400 naming the field, on create and on follow-up", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ max_cost_usd: 0 }, "max_cost_usd"],
      [{ max_cost_usd: -1 }, "max_cost_usd"],
      [{ max_cost_usd: "5" }, "max_cost_usd"],
      [{ max_tokens: 1.5 }, "max_tokens"],
      [{ max_tokens: 0 }, "max_tokens"],
      [{ max_turns: 0 }, "max_turns"],
      [{ max_turns: 10_001 }, "max_turns"],
    ];
    for (const [fields, field] of cases) {
      await expectError(await apiFetch("/api/v1/tasks", { json: { ...taskSpec(), ...fields } }), 400, "validation_failed", field);
    }
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool);
    expect((await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: result() })).status).toBe(200);
    for (const [fields, field] of cases) {
      await expectError(await apiFetch(`/api/v1/tasks/${task.id}/instructions`, { json: { prompt: "More", ...fields } }), 400, "validation_failed", field);
    }
    expect(await getTask(task.id)).toMatchObject({ iteration: 1, status: "succeeded" });
  });

  it("are replaced by a follow-up's own fields; the ones it leaves out are kept, and spend starts over", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool, max_cost_usd: 1, max_tokens: 50_000, max_turns: 10 });
    const first = await startRunning(pool);
    expect((await postEvents(task.id, first.lease_id, 1, [usage({ cost_usd: 0.4 })])).status).toBe(200);
    expect((await complete(task.id, first.lease_id, { outcome: "succeeded", last_batch_seq: 1, result: result() })).status).toBe(200);

    const res = await apiFetch(`/api/v1/tasks/${task.id}/instructions`, { json: { prompt: "Go on", max_cost_usd: 3 } });
    expect(res.status, await res.clone().text()).toBe(202);
    expect(Task.parse(await res.json())).toMatchObject({ iteration: 2, max_cost_usd: 3, max_tokens: 50_000, max_turns: 10 });
    const second = await takeLease({ pool });
    expect(second.task.iteration).toBe(2);
    // Budgets are per iteration: what iteration 1 spent does not count against iteration 2.
    expect(second.task.budget).toEqual({ max_cost_usd: 3, max_tokens: 50_000, max_turns: 10, spent_cost_usd: 0, spent_tokens: 0 });
  });

  it("carry what earlier attempts of the iteration spent: each one's last usage event, a null cost counting 0", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool, max_cost_usd: 5, max_tokens: 1_000_000, max_attempts: 3 });

    // Attempt 1 reports usage twice (running totals), then its runner vanishes.
    const first = await startRunning(pool, "runner-a");
    expect(first.task.budget).toMatchObject({ spent_cost_usd: 0, spent_tokens: 0 });
    expect((await postEvents(task.id, first.lease_id, 1, [usage({ calls: 1, cost_usd: 0.1, input_tokens: 100, output_tokens: 10 })])).status).toBe(200);
    const lastOfFirst = usage({ calls: 3, cost_usd: 0.25, input_tokens: 300, output_tokens: 40, cache_read_input_tokens: 50, cache_creation_input_tokens: 7 });
    expect((await postEvents(task.id, first.lease_id, 2, [usage({ calls: 2, cost_usd: 0.2 }), lastOfFirst])).status).toBe(200);
    await loseRunner(task.id);

    const second = await startRunning(pool, "runner-b");
    expect(second.attempt).toBe(2);
    expect(second.task.budget).toEqual({ max_cost_usd: 5, max_tokens: 1_000_000, max_turns: null, spent_cost_usd: 0.25, spent_tokens: 300 + 40 + 50 + 7 });

    // Attempt 2 used a model the runner could not price (cost null), then was handed back.
    expect((await postEvents(task.id, second.lease_id, 1, [usage({ cost_usd: null, input_tokens: 1_000, output_tokens: 200 })])).status).toBe(200);
    const released = await runnerPost(`/runner/v1/tasks/${task.id}/release`, { lease_id: second.lease_id, reason: "shutting down" });
    expect(released.status, await released.clone().text()).toBe(200);

    const third = await takeLease({ pool, runner_id: "runner-c" });
    expect(third.attempt).toBe(3);
    expect(third.task.budget).toMatchObject({ spent_cost_usd: 0.25, spent_tokens: 397 + 1_200 });

    // The usage events are in the log like any runner event, each under its attempt.
    const logged = (await allEvents(task.id)).filter((e) => e.type === "usage");
    expect(logged.map((e) => [e.attempt, e.type === "usage" ? e.cost_usd : undefined])).toEqual([
      [1, 0.1],
      [1, 0.2],
      [1, 0.25],
      [2, null],
    ]);
  });

  it("count usage the output cap no longer stores: spend is metered, not output", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool, max_cost_usd: 5, max_attempts: 2 });
    const first = await startRunning(pool);
    // Fill the task's output cap with one big batch of output.
    const chunk = "x".repeat(12_000);
    const filler = Array.from({ length: Math.ceil(TEST_OUTPUT_MAX_BYTES / chunk.length) + 1 }, (_, i) => ({
      type: "output" as const,
      stream: "stdout" as const,
      text: chunk,
      offset: i * chunk.length,
    }));
    expect((await postEvents(task.id, first.lease_id, 1, filler)).status).toBe(200);
    expect((await postEvents(task.id, first.lease_id, 2, [usage({ cost_usd: 0.75, input_tokens: 10, output_tokens: 5 })])).status).toBe(200);
    const events = await allEvents(task.id);
    expect(events.some((e) => e.type === "truncated")).toBe(true);
    expect(events.some((e) => e.type === "usage")).toBe(false);
    await loseRunner(task.id);
    expect((await takeLease({ pool })).task.budget).toMatchObject({ spent_cost_usd: 0.75, spent_tokens: 15 });
  });

  it("refuses a malformed usage event with 400 naming the field, and stores nothing of its batch", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool);
    const bad: [unknown, string][] = [
      [{ ...usage(), input_tokens: -1 }, "events.0.input_tokens"],
      [{ ...usage(), cost_usd: undefined }, "events.0.cost_usd"],
      [{ ...usage(), calls: 1.5 }, "events.0.calls"],
      [{ ...usage(), surprise: 1 }, "events.0.surprise"],
    ];
    for (const [event, field] of bad) {
      const res = await runnerPost(`/runner/v1/tasks/${task.id}/events`, { lease_id: lease.lease_id, batch_seq: 1, events: [event] });
      await expectError(res, 400, "validation_failed", field);
    }
    expect((await allEvents(task.id)).filter((e) => e.type === "usage")).toEqual([]);
  });
});
