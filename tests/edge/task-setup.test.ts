/**
 * Integration: a task's `setup` commands through the real Worker and task objects — shown on the
 * task, handed to the runner in its lease (read as the raw JSON the edge sends, so no schema
 * default hides a missing field), kept by a follow-up; every wrong shape a 400 naming the field;
 * and what a runner reports of a setup (its `setup` phase events, a `setup_failed` ending, the
 * setup's duration in the result) stored and shown as sent.
 */
import { describe, expect, it } from "vitest";
import { SETUP_COMMAND_MAX_CHARS, SETUP_COMMANDS_MAX } from "#api/limits.js";
import type { RunnerEvent } from "#api/stream-events.js";
import { allEvents, apiFetch, createTask, expectError, getTask, taskSpec, uniquePool } from "./api-client.js";
import { followUp, followUpOk, resultWith, runIteration } from "./follow-up-client.js";
import { complete, heartbeat, postEvents, requestLease, sampleResult } from "./runner-client.js";

/** The lease exactly as the edge sent it (no schema defaults applied). */
async function rawLease(pool: string): Promise<{ task_id: string; lease_id: string; task: Record<string, unknown> }> {
  const res = await requestLease({ pool });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as { task_id: string; lease_id: string; task: Record<string, unknown> };
}

describe("a task's setup", () => {
  it("shows on the task and reaches the runner in its lease, in order", async () => {
    const pool = uniquePool();
    const setup = ["npm ci", "pip install -r requirements.txt\npython -m compileall -q ."];
    const task = await createTask({ pool, setup });
    expect(task.setup).toEqual(setup);
    expect((await getTask(task.id)).setup).toEqual(setup);
    const lease = await rawLease(pool);
    expect(lease.task_id).toBe(task.id);
    expect(lease.task.setup).toEqual(setup);
  });

  it("is null when not given (the pool's default applies) and [] when the task asks for none", async () => {
    const pool = uniquePool();
    expect((await createTask({ pool })).setup).toBeNull();
    expect((await rawLease(pool)).task.setup).toBeNull();
    const none = uniquePool();
    expect((await createTask({ pool: none, setup: [] })).setup).toEqual([]);
    expect((await rawLease(none)).task.setup).toEqual([]);
  });

  it.each([
    ["not a list", "npm ci", "setup", /expected array/],
    ["a command that is not text", [42], "setup.0", /expected string/],
    ["a blank command", ["npm ci", "   "], "setup.1", /must not be blank/],
    ["an empty command", [""], "setup.0", /must not be blank/],
    ["a command with a NUL character", ["echo a\u0000b"], "setup.0", /NUL/],
    ["a command one character too long", ["x".repeat(SETUP_COMMAND_MAX_CHARS + 1)], "setup.0", new RegExp(`at most ${SETUP_COMMAND_MAX_CHARS} characters`)],
    [
      "one command too many",
      Array.from({ length: SETUP_COMMANDS_MAX + 1 }, (_, i) => `echo ${i}`),
      "setup",
      new RegExp(`at most ${SETUP_COMMANDS_MAX} commands`),
    ],
  ])("refuses %s with 400 naming the field, and queues nothing", async (_what, setup, field, message) => {
    const pool = uniquePool();
    const body = await expectError(await apiFetch("/api/v1/tasks", { json: { ...taskSpec({ pool }), setup } }), 400, "validation_failed", field);
    expect(body.error.message).toMatch(message);
    expect((await requestLease({ pool })).status).toBe(204);
  });

  it("accepts the most commands of the longest length", async () => {
    const setup = Array.from({ length: SETUP_COMMANDS_MAX }, () => "x".repeat(SETUP_COMMAND_MAX_CHARS));
    expect((await createTask({ pool: uniquePool(), setup })).setup).toHaveLength(SETUP_COMMANDS_MAX);
  });

  it("is kept by a follow-up, which cannot change it", async () => {
    const pool = uniquePool();
    const created = await createTask({ pool, setup: ["make deps"] });
    await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    await expectError(await followUp(created.id, { prompt: "More", setup: ["other"] }), 400, "validation_failed", "setup");
    expect((await followUpOk(created.id, { prompt: "More" })).setup).toEqual(["make deps"]);
    expect((await rawLease(pool)).task.setup).toEqual(["make deps"]);
  });
});

describe("what a runner reports of a setup", () => {
  it("stores setup-phase events as sent and shows a setup_failed ending on the task", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool, setup: ["npm ci"] });
    const lease = await rawLease(pool);
    const events: RunnerEvent[] = [
      { type: "log", source: "runner", level: "info", message: "Setup: npm ci", phase: "setup" },
      { type: "output", stream: "stderr", text: "npm error 404\n", offset: 0, phase: "setup" },
      { type: "egress_denied", host: "api.anthropic.com", port: 443, reason: "a model API, not reachable during setup", phase: "setup" },
    ];
    expect((await postEvents(task.id, lease.lease_id, 1, events)).status).toBe(200);
    const error = { code: "setup_failed" as const, message: "setup command `npm ci` exited with code 1; its last output:\nnpm error 404" };
    expect((await complete(task.id, lease.lease_id, { outcome: "failed", last_batch_seq: 1, error })).status).toBe(200);
    expect(await getTask(task.id)).toMatchObject({ status: "failed", error, result: null });
    const stored = (await allEvents(task.id)).filter((e) => "phase" in e);
    expect(stored).toMatchObject(events);
  });

  it("shows the setup's duration in the result", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool, setup: ["make deps"] });
    const lease = await rawLease(pool);
    expect((await heartbeat(task.id, lease.lease_id, "running")).status).toBe(200);
    const result = { ...sampleResult(), phases: { clone: { duration_ms: 812, cache: "hit" as const }, setup: { duration_ms: 4_321 } } };
    expect((await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0, result })).status).toBe(200);
    expect((await getTask(task.id)).result?.phases?.setup).toEqual({ duration_ms: 4_321 });
  });
});
