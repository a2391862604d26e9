/**
 * Integration: what the runner's sandbox reports back at the end of an attempt (the
 * `resource_limit` error, the result's `sandbox`), through the real Worker and task objects.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { allEvents, createTask, expectError, getTask, taskObjectOf, uniquePool } from "./api-client.js";
import { complete, heartbeat, requestLease, runnerPost, sampleResult } from "./runner-client.js";

/** The lease's `task` exactly as the edge sent it (no schema defaults applied). */
async function rawLease(pool: string): Promise<{ task_id: string; lease_id: string; task: Record<string, unknown> }> {
  const res = await requestLease({ pool });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as { task_id: string; lease_id: string; task: Record<string, unknown> };
}

/** Leases the pool's task and sends the first `running` heartbeat. */
async function startRaw(pool: string) {
  const lease = await rawLease(pool);
  expect((await heartbeat(lease.task_id, lease.lease_id, "running")).status).toBe(200);
  return lease;
}

describe("what the sandbox reports at the end", () => {
  it("accepts a resource_limit failure and the result's sandbox, and shows both", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRaw(pool);
    const error = { code: "resource_limit" as const, message: "the sandbox's memory limit (2048 MiB) was reached; the CLI was killed" };
    const res = await complete(task.id, lease.lease_id, { outcome: "failed", last_batch_seq: 0, result: { ...sampleResult(), exit_code: null, sandbox: "bubblewrap" }, error });
    expect(res.status, await res.text()).toBe(200);

    const done = await getTask(task.id);
    expect(done).toMatchObject({ status: "failed", error, result: { sandbox: "bubblewrap", exit_code: null } });
    expect(done.iterations[0]).toMatchObject({ status: "failed", error, result: { sandbox: "bubblewrap" } });
    const events = await allEvents(task.id);
    expect(events.find((e) => e.type === "result")).toMatchObject({ result: { sandbox: "bubblewrap" } });
    expect(events.at(-1)).toMatchObject({ type: "status", status: "failed", error });
  });

  it("reads a result from a runner that predates sandboxes as sandbox: null, and refuses an unknown sandbox", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRaw(pool);
    const { sandbox: _sandbox, ...old } = sampleResult();
    const completeWith = (result: unknown) => runnerPost(`/runner/v1/tasks/${task.id}/complete`, { lease_id: lease.lease_id, outcome: "succeeded", result, error: null, last_batch_seq: 0 });
    await expectError(await completeWith({ ...old, sandbox: "docker" }), 400, "validation_failed", "result.sandbox");
    const res = await completeWith(old);
    expect(res.status, await res.text()).toBe(200);
    expect((await getTask(task.id)).result).toMatchObject({ sandbox: null });
  });

  it("reads a result stored before sandboxes existed as sandbox: null", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRaw(pool);
    await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: sampleResult() });
    await runInDurableObject(taskObjectOf(task.id), (_instance, state) => {
      const { sandbox: _sandbox, ...old } = sampleResult();
      state.storage.sql.exec("UPDATE task SET result = ?", JSON.stringify(old));
    });
    expect((await getTask(task.id)).result).toMatchObject({ sandbox: null, final_message: "Added a README." });
  });
});
