/**
 * Integration: a task's write-only secrets (`access_token`, `env`). They are accepted on create,
 * stored sealed (never in the clear in the object's SQLite), shown only as `has_access_token`
 * and `env_names`, handed to the runner holding the lease, and erased when the task ends.
 */
import { createExecutionContext, env, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Task } from "#api/task.js";
import worker from "../../edge/src/index.js";
import { secretBox } from "../../edge/src/task/secret-box.js";
import { allEvents, apiFetch, cancelTask, createTask, expectError, getTask, ORIGIN, taskObjectOf, taskSpec, uniquePool } from "./api-client.js";
import { advanceClock, fireAlarm } from "./clock.js";
import { TEST_ADMIN_KEY } from "./credentials.js";
import { complete, heartbeat, outputEvents, postEvents, sampleResult, takeLease } from "./runner-client.js";
import { openStream, within } from "./stream-watcher.js";

/** Distinctive values, so finding any of them anywhere is unambiguous. */
function secrets() {
  const tag = crypto.randomUUID().replaceAll("-", "");
  return {
    access_token: `ghp_token${tag}`,
    env: { ANTHROPIC_API_KEY: `sk-ant-${tag}`, ZED_SETTING: `zed-value-${tag}` },
  };
}

const valuesOf = (s: ReturnType<typeof secrets>) => [s.access_token, ...Object.values(s.env)];

/** Every row of every table in the task's object, as one text. */
function rawDatabase(taskId: string): Promise<{ dump: string; sealed: string | null; requestHash: string }> {
  return runInDurableObject(taskObjectOf(taskId), (_instance, state) => {
    const sql = state.storage.sql;
    const tables = sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%'").toArray();
    const dump = tables.map(({ name }) => JSON.stringify(sql.exec(`SELECT * FROM "${name}"`).toArray())).join("\n");
    const row = sql.exec<{ secrets: string | null; request_hash: string }>("SELECT secrets, request_hash FROM task").one();
    return { dump, sealed: row.secrets, requestHash: row.request_hash };
  });
}

function expectNoneIn(text: string, values: string[]): void {
  for (const value of values) expect(text).not.toContain(value);
}

describe("task secrets", () => {
  it("are never shown back: the task says only that a token and which env names it carries", async () => {
    const pool = uniquePool();
    const s = secrets();
    const res = await apiFetch("/api/v1/tasks", { json: taskSpec({ pool, ...s }) });
    const text = await res.text();
    expect(res.status, text).toBe(201);
    expectNoneIn(text, valuesOf(s));
    const task = Task.parse(JSON.parse(text));
    expect(task).toMatchObject({ has_access_token: true, env_names: ["ANTHROPIC_API_KEY", "ZED_SETTING"] });

    const read = await apiFetch(`/api/v1/tasks/${task.id}`);
    expectNoneIn(await read.text(), valuesOf(s));
    const events = await apiFetch(`/api/v1/tasks/${task.id}/events`);
    expectNoneIn(await events.text(), valuesOf(s));

    // The whole life of the task, watched live: no frame carries a secret.
    const watcher = await openStream(task.id, 0);
    const lease = await takeLease({ pool });
    expect((await heartbeat(task.id, lease.lease_id)).status).toBe(200);
    expect((await postEvents(task.id, lease.lease_id, 1, outputEvents(2))).status).toBe(200);
    expect((await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 1, result: sampleResult() })).status).toBe(200);
    await within(watcher.closed, 5_000, "stream close");
    expect(watcher.events.length).toBeGreaterThanOrEqual(6);
    expectNoneIn(JSON.stringify(watcher.events), valuesOf(s));
    expectNoneIn(JSON.stringify(await allEvents(task.id)), valuesOf(s));

    // Still shown as carried after the task ended and the values were erased.
    expect(await getTask(task.id)).toMatchObject({ status: "succeeded", has_access_token: true, env_names: ["ANTHROPIC_API_KEY", "ZED_SETTING"] });
  });

  it("are stored sealed: the object's SQLite never holds them in the clear", async () => {
    const pool = uniquePool();
    const s = secrets();
    const task = await createTask({ pool, ...s }, { "idempotency-key": `k-${crypto.randomUUID()}` });

    const { dump, sealed, requestHash } = await rawDatabase(task.id);
    expectNoneIn(dump, valuesOf(s));
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9+/=]+$/);
    // The idempotency fingerprint is keyed: no plain hash of the request to guess a token from.
    expect(requestHash).toMatch(/^hmac:[0-9a-f]{64}$/);
  });

  it("are handed to the runner that holds the lease, again on a retry, and erased once the task ends", async () => {
    const pool = uniquePool();
    const s = secrets();
    const task = await createTask({ pool, ...s, max_attempts: 2 });

    const first = await takeLease({ pool, runner_id: "runner-lost" });
    expect(first.task).toMatchObject({ access_token: s.access_token, env: s.env });

    advanceClock(31_000);
    await fireAlarm(task.id);
    expect((await getTask(task.id)).status).toBe("queued");
    expect((await rawDatabase(task.id)).sealed).not.toBeNull();

    const second = await takeLease({ pool, runner_id: "runner-next" });
    expect(second).toMatchObject({ attempt: 2, task: { access_token: s.access_token, env: s.env } });
    expect((await complete(task.id, second.lease_id, { outcome: "failed", last_batch_seq: 0 })).status).toBe(200);

    expect((await getTask(task.id)).status).toBe("failed");
    expect((await rawDatabase(task.id)).sealed).toBeNull();
  });

  it("are erased when a queued task is canceled, and when a task fails as runner_lost", async () => {
    const pool = uniquePool();
    const canceled = await createTask({ pool, ...secrets() });
    await cancelTask(canceled.id);
    expect((await rawDatabase(canceled.id)).sealed).toBeNull();

    const lost = await createTask({ pool, ...secrets(), max_attempts: 1 });
    await takeLease({ pool });
    advanceClock(31_000);
    await fireAlarm(lost.id);
    expect(await getTask(lost.id)).toMatchObject({ status: "failed", error: { code: "runner_lost" } });
    expect((await rawDatabase(lost.id)).sealed).toBeNull();
  });

  it("leave a task without secrets as it was: no token, no env in its lease", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    expect(task).toMatchObject({ has_access_token: false, env_names: [] });
    const lease = await takeLease({ pool });
    expect(lease.task).toMatchObject({ access_token: null, env: {} });
    expect((await rawDatabase(task.id)).sealed).toBeNull();
  });

  it("make a different request for idempotency: another token under the same key is a 409", async () => {
    const pool = uniquePool();
    const key = `k-${crypto.randomUUID()}`;
    const s = secrets();
    const create = (json: unknown) => apiFetch("/api/v1/tasks", { json, headers: { "idempotency-key": key } });

    const first = await create(taskSpec({ pool, ...s }));
    expect(first.status).toBe(201);
    const replay = await create(taskSpec({ pool, ...s }));
    expect(replay.status).toBe(200);
    expect(Task.parse(await replay.json()).id).toBe(Task.parse(await first.json()).id);
    await expectError(await create(taskSpec({ pool, ...s, access_token: "ghp_another" })), 409, "idempotency_conflict");
  });

  it("refuse reserved or malformed env names with a 400 naming the field", async () => {
    const res = await apiFetch("/api/v1/tasks", { json: taskSpec({ pool: uniquePool(), env: { PATH: "/tmp/evil" } }) });
    await expectError(res, 400, "validation_failed", "env.PATH");
  });
});

describe("task secrets without a key", () => {
  /** The real Worker with bindings of an edge outside local mode. */
  async function production(path: string, json: unknown, bindings: Record<string, string> = {}): Promise<Response> {
    const ctx = createExecutionContext();
    const request = new Request(`${ORIGIN}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(json),
    });
    const res = await worker.fetch(request, { ...env, CODEFORGE_LOCAL_MODE: "false", TASK_SECRETS_KEY: undefined, ...bindings }, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  }
  const httpsSpec = (extra: object) => ({ ...taskSpec({ pool: uniquePool() }), repo: { url: "https://git.example.com/acme/app.git" }, ...extra });

  it("are refused with 400 outside local mode, while tasks without secrets are still accepted", async () => {
    await expectError(await production("/api/v1/tasks", httpsSpec({ access_token: "ghp_x" })), 400, "validation_failed", "access_token");
    await expectError(await production("/api/v1/tasks", httpsSpec({ env: { API_KEY: "v" } })), 400, "validation_failed", "env");
    expect((await production("/api/v1/tasks", httpsSpec({}))).status).toBe(201);
  });

  it("are accepted once TASK_SECRETS_KEY is set", async () => {
    const res = await production("/api/v1/tasks", httpsSpec({ access_token: "ghp_x" }), { TASK_SECRETS_KEY: "k".repeat(40) });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(Task.parse(await res.json()).has_access_token).toBe(true);
  });
});

describe("secret box", () => {
  it("opens only with the same key and the same task id", async () => {
    const box = await secretBox("a".repeat(40));
    const sealed = await box.seal("top secret", "tsk_1");
    expect(sealed).not.toContain("top secret");
    expect(await box.open(sealed, "tsk_1")).toBe("top secret");
    await expect(box.open(sealed, "tsk_2")).rejects.toThrow();
    await expect((await secretBox("b".repeat(40))).open(sealed, "tsk_1")).rejects.toThrow();
    // A fresh nonce every time: the same secret never seals to the same text.
    expect(await box.seal("top secret", "tsk_1")).not.toBe(sealed);
  });
});
