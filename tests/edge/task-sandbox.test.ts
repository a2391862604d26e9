/**
 * Integration: what a task asks of the runner's sandbox (`autonomy`, `egress_allow`) and what
 * the sandbox reports back (`egress_denied` events, the `resource_limit` error, the result's
 * `sandbox`), through the real Worker and task objects. The lease is read as the raw JSON the
 * edge sends, so a default the runner's parser would fill in cannot hide a missing field.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EgressDeniedEvent, RunnerEvent } from "#api/stream-events.js";
import { allEvents, apiFetch, createTask, expectError, getTask, taskObjectOf, taskSpec, uniquePool } from "./api-client.js";
import { TEST_OUTPUT_MAX_BYTES } from "./credentials.js";
import { complete, heartbeat, postEvents, requestLease, runnerPost, sampleResult } from "./runner-client.js";
import { openStream, within } from "./stream-watcher.js";

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

const denied = (host: string, port: number, reason: string): EgressDeniedEvent => ({ type: "egress_denied", host, port, reason });

describe("autonomy and egress_allow on create", () => {
  it("show on the task and reach the runner in its lease", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool, autonomy: "edits", egress_allow: ["api.example.com", "*.packages.example.org"] });
    expect(task).toMatchObject({ autonomy: "edits", egress_allow: ["api.example.com", "*.packages.example.org"] });
    expect(await getTask(task.id)).toMatchObject({ autonomy: "edits", egress_allow: ["api.example.com", "*.packages.example.org"] });
    const lease = await rawLease(pool);
    expect(lease.task_id).toBe(task.id);
    expect(lease.task).toMatchObject({ autonomy: "edits", egress_allow: ["api.example.com", "*.packages.example.org"] });
  });

  it("default to full autonomy and the pool's own egress policy (null)", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    expect(task).toMatchObject({ autonomy: "full", egress_allow: null });
    const lease = await rawLease(pool);
    expect(lease.task.autonomy).toBe("full");
    expect(lease.task.egress_allow).toBeNull();
  });

  it("store patterns lowercase, with ports and an empty list (no host at all) kept as given", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool, egress_allow: ["API.Example.COM", "git.example.org:8443", "cache.example.net:*"] });
    expect(task.egress_allow).toEqual(["api.example.com", "git.example.org:8443", "cache.example.net:*"]);
    expect((await rawLease(pool)).task.egress_allow).toEqual(["api.example.com", "git.example.org:8443", "cache.example.net:*"]);

    const closed = uniquePool();
    expect((await createTask({ pool: closed, egress_allow: [] })).egress_allow).toEqual([]);
    expect((await rawLease(closed)).task.egress_allow).toEqual([]);
  });

  it.each([
    ["a URL", "http://x", /host name/],
    ["an IP address", "10.0.0.1", /not an IP address/],
    ["a bare wildcard", "*", /host name/],
    ["a wildcard without a dot below it", "*.com", /wildcard needs a domain/],
    ["port 0", "example.com:0", /port must be/],
  ])("refuses a pattern that is %s with 400 naming egress_allow.0", async (_what, pattern, message) => {
    const pool = uniquePool();
    const body = await expectError(
      await apiFetch("/api/v1/tasks", { json: taskSpec({ pool, egress_allow: [pattern] }) }),
      400,
      "validation_failed",
      "egress_allow.0",
    );
    expect(body.error.message).toMatch(message);
    expect((await requestLease({ pool })).status).toBe(204);
  });

  it("names the pattern that is wrong, and refuses more than 64 patterns", async () => {
    await expectError(
      await apiFetch("/api/v1/tasks", { json: taskSpec({ egress_allow: ["ok.example.com", "also.example.com", "https://bad.example.com/"] }) }),
      400,
      "validation_failed",
      "egress_allow.2",
    );
    const many = Array.from({ length: 65 }, (_, i) => `h${i}.example.com`);
    await expectError(await apiFetch("/api/v1/tasks", { json: taskSpec({ egress_allow: many }) }), 400, "validation_failed", "egress_allow");
    await expectError(await apiFetch("/api/v1/tasks", { json: { ...taskSpec(), egress_allow: "api.example.com" } }), 400, "validation_failed", "egress_allow");
  });

  it("refuses an unknown autonomy with 400 naming autonomy", async () => {
    for (const autonomy of ["yolo", "FULL", true, null]) {
      await expectError(await apiFetch("/api/v1/tasks", { json: { ...taskSpec(), autonomy } }), 400, "validation_failed", "autonomy");
    }
  });

  it("are part of what an Idempotency-Key guards; full spelled out, or a pattern in another case, is the same request", async () => {
    const create = (json: unknown, key: string) => apiFetch("/api/v1/tasks", { json, headers: { "Idempotency-Key": key } });
    const key = `sandbox-${crypto.randomUUID()}`;
    const body = taskSpec({ pool: uniquePool() });
    expect((await create(body, key)).status).toBe(201);
    expect((await create({ ...body, autonomy: "full" }, key)).status).toBe(200);
    await expectError(await create({ ...body, autonomy: "edits" }, key), 409, "idempotency_conflict");
    await expectError(await create({ ...body, egress_allow: ["api.example.com"] }, key), 409, "idempotency_conflict");
    await expectError(await create({ ...body, egress_allow: [] }, key), 409, "idempotency_conflict");

    const narrowKey = `sandbox-${crypto.randomUUID()}`;
    const narrow = { ...body, egress_allow: ["api.example.com"] };
    expect((await create(narrow, narrowKey)).status).toBe(201);
    expect((await create({ ...narrow, egress_allow: ["API.example.com"] }, narrowKey)).status).toBe(200);
    await expectError(await create({ ...narrow, egress_allow: ["api.example.com", "*.packages.example.org"] }, narrowKey), 409, "idempotency_conflict");
  });

  it("read a spec stored before they existed as full autonomy and no narrowing, on the task and in the lease", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool, autonomy: "edits", egress_allow: ["api.example.com"] });
    await runInDurableObject(taskObjectOf(task.id), (_instance, state) => {
      const sql = state.storage.sql;
      const spec = JSON.parse(sql.exec<{ spec: string }>("SELECT spec FROM task").one().spec) as Record<string, unknown>;
      delete spec.autonomy;
      delete spec.egress_allow;
      sql.exec("UPDATE task SET spec = ?", JSON.stringify(spec));
    });
    expect(await getTask(task.id)).toMatchObject({ autonomy: "full", egress_allow: null });
    const lease = await rawLease(pool);
    expect(lease.task.autonomy).toBe("full");
    expect(lease.task.egress_allow).toBeNull();
  });
});

describe("egress_denied events", () => {
  it("are stored, paged and streamed like other runner events", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool, egress_allow: ["api.example.com"] });
    const lease = await startRaw(pool); // seq 1 queued, 2 leased, 3 running
    const watcher = await openStream(task.id, 3);

    const event = denied("evil.example.net", 443, "not in the task's egress_allow");
    const ipv6 = denied("fd00::1", 22, "a private address");
    expect((await postEvents(task.id, lease.lease_id, 1, [event, { type: "log", source: "runner", level: "info", message: "go on" }, ipv6])).status).toBe(200);
    await watcher.waitForSeq(6);

    const logged = (await allEvents(task.id)).filter((e) => e.type === "egress_denied");
    expect(logged).toEqual([
      expect.objectContaining({ seq: 4, iteration: 1, attempt: 1, ...event }),
      expect.objectContaining({ seq: 6, iteration: 1, attempt: 1, ...ipv6 }),
    ]);
    expect(watcher.events.filter((f) => f.type === "egress_denied")).toEqual(logged);

    expect((await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 1, result: sampleResult() })).status).toBe(200);
    await within(watcher.closed, 5_000, "stream close");
  });

  it.each([
    ["a port over 65535", { ...denied("x.example.com", 65_536, "r") }, "events.0.port"],
    ["a host over 260 characters", { ...denied(`${"h".repeat(261)}`, 443, "r") }, "events.0.host"],
    ["a reason over 1024 characters", { ...denied("x.example.com", 443, "r".repeat(1_025)) }, "events.0.reason"],
    ["an unknown field", { ...denied("x.example.com", 443, "r"), url: "https://x.example.com/" }, "events.0.url"],
  ])("are refused with %s, naming the field", async (_what, event, field) => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRaw(pool);
    await expectError(await postEvents(task.id, lease.lease_id, 1, [event as RunnerEvent]), 400, "validation_failed", field);
    expect((await allEvents(task.id)).map((e) => e.type)).toEqual(["status", "status", "status"]);
  });

  it("count against the task's output cap, which ends with one truncated marker", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRaw(pool);
    // ~1.1 KB each: the cap (64 KiB) fills within the third batch of 32.
    const batch = (n: number) => Array.from({ length: 32 }, (_, i) => denied(`h${n}-${i}.example.com`, 443, "r".repeat(1_000)));
    for (const n of [1, 2, 3]) expect((await postEvents(task.id, lease.lease_id, n, batch(n))).status).toBe(200);

    const events = await allEvents(task.id);
    const stored = events.filter((e) => e.type === "egress_denied");
    expect(stored.length).toBeGreaterThan(32);
    expect(stored.length).toBeLessThan(96);
    expect(events.filter((e) => e.type === "truncated")).toEqual([expect.objectContaining({ limit_bytes: TEST_OUTPUT_MAX_BYTES })]);
    expect(events.at(-1)?.type).toBe("truncated");
  });
});

describe("what the sandbox reports at the end", () => {
  it("accepts a resource_limit failure and the result's sandbox, and shows both", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRaw(pool);
    const error = { code: "resource_limit" as const, message: "the sandbox's memory limit (2048 MiB) was reached; the CLI was killed" };
    const res = await complete(task.id, lease.lease_id, {
      outcome: "failed",
      last_batch_seq: 0,
      result: { ...sampleResult(), exit_code: null, sandbox: "bubblewrap" },
      error,
    });
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
    const completeWith = (result: unknown) =>
      runnerPost(`/runner/v1/tasks/${task.id}/complete`, { lease_id: lease.lease_id, outcome: "succeeded", result, error: null, last_batch_seq: 0 });
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
