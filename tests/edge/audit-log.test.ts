/**
 * Integration: the audit log. Task and key changes are recorded with actor, client address,
 * request id, time, target and outcome (refusals too, with their error code), never a
 * secret; admins read it filtered and paged across its day shards, and export it; each shard
 * empties itself when its day leaves the retention window.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { AuditEntry, AuditPage } from "#api/audit.js";
import { AUDIT_RETENTION_DAYS } from "#api/limits.js";
import { auditShard, auditShardOf, DAY_MS, dayOf } from "../../edge/src/audit/audit-shards.js";
import type { AuditRecord } from "../../edge/src/audit/audit-store.js";
import type { Env } from "../../edge/src/env.js";
import { apiFetch, expectError, uniquePool } from "./api-client.js";
import { createKey, createTaskAs } from "./key-client.js";
import { runnerPost } from "./runner-client.js";

/** Reads the audit log with `query` as the admin; fails unless 200. */
async function audit(query: Record<string, string> = {}): Promise<AuditPage> {
  const res = await apiFetch(`/api/v1/audit?${new URLSearchParams(query)}`);
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return AuditPage.parse(body);
}

/** The entries with `requestId`, once they have been written (writes finish after the response). */
async function entriesFor(requestId: string, count = 1): Promise<AuditEntry[]> {
  return vi.waitFor(
    async () => {
      const page = await audit({ limit: "500" });
      const found = page.entries.filter((e) => e.request_id === requestId);
      if (found.length < count) throw new Error(`audit entries for ${requestId} not written yet`);
      return found;
    },
    { timeout: 5_000, interval: 20 },
  );
}

const rid = () => `audit-${crypto.randomUUID()}`;

describe("what is recorded", () => {
  it("records a task created and canceled, with actor, address, request id, target and time", async () => {
    const key = await createKey();
    const createId = rid();
    const before = Date.now();
    const task = await createTaskAs(key.key, { pool: uniquePool() }, { "x-request-id": createId, "cf-connecting-ip": "198.51.100.23" });
    const [created] = await entriesFor(createId);
    expect(created).toMatchObject({ actor: key.id, client_ip: "198.51.100.23", action: "task.create", target: task.id, outcome: "success", error_code: null });
    expect(Date.parse(created!.at)).toBeGreaterThanOrEqual(before - 1);

    const cancelId = rid();
    await apiFetch(`/api/v1/tasks/${task.id}/cancel`, { key: key.key, method: "POST", headers: { "x-request-id": cancelId } });
    expect((await entriesFor(cancelId))[0]).toMatchObject({ actor: key.id, action: "task.cancel", target: task.id, outcome: "success", client_ip: null });
  });

  it("records refusals as failures with the error code the caller got", async () => {
    const reader = await createKey({ scopes: ["tasks:read"] });
    const forbidden = rid();
    await apiFetch("/api/v1/tasks", { key: reader.key, json: {}, headers: { "x-request-id": forbidden } });
    expect((await entriesFor(forbidden))[0]).toMatchObject({
      actor: reader.id,
      action: "task.create",
      outcome: "failure",
      error_code: "forbidden",
      target: null,
    });

    const invalid = rid();
    await apiFetch("/api/v1/tasks", { json: { prompt: "x" }, headers: { "x-request-id": invalid } });
    expect((await entriesFor(invalid))[0]).toMatchObject({ actor: "admin", action: "task.create", outcome: "failure", error_code: "validation_failed" });

    const missing = rid();
    await apiFetch("/api/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa/cancel", { method: "POST", headers: { "x-request-id": missing } });
    expect((await entriesFor(missing))[0]).toMatchObject({
      action: "task.cancel",
      target: "tsk_0000000000aaaaaaaaaaaaaaaa",
      outcome: "failure",
      error_code: "not_found",
    });
  });

  it("records key creation, rotation and revocation, and never a secret", async () => {
    const [createId, rotateId, revokeId] = [rid(), rid(), rid()];
    const created = (await (
      await apiFetch("/api/v1/keys", { json: { name: "audited", scopes: ["tasks:read"] }, headers: { "x-request-id": createId } })
    ).json()) as { id: string; key: string };
    const rotated = (await (
      await apiFetch(`/api/v1/keys/${created.id}/rotate`, { json: { overlap_seconds: 0 }, headers: { "x-request-id": rotateId } })
    ).json()) as { key: string };
    await apiFetch(`/api/v1/keys/${created.id}/revoke`, { method: "POST", headers: { "x-request-id": revokeId } });

    expect((await entriesFor(createId))[0]).toMatchObject({ actor: "admin", action: "key.create", target: created.id, outcome: "success" });
    expect((await entriesFor(rotateId))[0]).toMatchObject({ action: "key.rotate", target: created.id, outcome: "success" });
    expect((await entriesFor(revokeId))[0]).toMatchObject({ action: "key.revoke", target: created.id, outcome: "success" });

    const everything = JSON.stringify(await audit({ limit: "500" }));
    expect(everything).not.toContain(created.key.slice(-52));
    expect(everything).not.toContain(rotated.key.slice(-52));
  });

  it("records a runner the first time its pool sees it, not on every poll", async () => {
    const pool = uniquePool();
    const runnerId = `runner-${crypto.randomUUID().slice(0, 8)}`;
    const poll = (requestId: string) =>
      runnerPost(
        "/runner/v1/lease",
        { runner_id: runnerId, pool, clis: ["demo"], wait_ms: 0 },
        { headers: { "x-request-id": requestId, "cf-connecting-ip": "192.0.2.7" } },
      );
    const first = rid();
    expect((await poll(first)).status).toBe(204);
    const [registered] = await entriesFor(first);
    expect(registered).toMatchObject({ actor: `runner:${runnerId}`, client_ip: "192.0.2.7", action: "runner.register", target: runnerId, outcome: "success" });

    const second = rid();
    expect((await poll(second)).status).toBe(204);
    // Written in the background like the first: give it the same chance to appear.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const page = await audit({ target: runnerId, limit: "500" });
    expect(page.entries.map((e) => e.request_id)).toEqual([first]);
  });

  it("does not record reads", async () => {
    const readId = rid();
    await apiFetch("/api/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa", { headers: { "x-request-id": readId } });
    const marker = rid();
    await apiFetch("/api/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa/cancel", { method: "POST", headers: { "x-request-id": marker } });
    await entriesFor(marker);
    expect((await audit({ limit: "500" })).entries.some((e) => e.request_id === readId)).toBe(false);
  });
});

describe("reading the log", () => {
  it("filters by actor, action, target and time, newest first", async () => {
    const key = await createKey();
    const pool = uniquePool();
    const start = new Date().toISOString();
    const ids = [rid(), rid(), rid()];
    const tasks = [];
    for (const id of ids) tasks.push(await createTaskAs(key.key, { pool }, { "x-request-id": id }));
    const cancelId = rid();
    await apiFetch(`/api/v1/tasks/${tasks[0]!.id}/cancel`, { key: key.key, method: "POST", headers: { "x-request-id": cancelId } });
    await entriesFor(cancelId);
    for (const id of ids) await entriesFor(id);

    const byActor = await audit({ actor: key.id });
    expect(byActor.entries.map((e) => e.request_id)).toEqual([cancelId, ...[...ids].reverse()]);
    expect((await audit({ actor: key.id, action: "task.cancel" })).entries.map((e) => e.target)).toEqual([tasks[0]!.id]);
    expect((await audit({ target: tasks[1]!.id })).entries.map((e) => e.request_id)).toEqual([ids[1]]);
    expect((await audit({ actor: key.id, since: start })).entries).toHaveLength(4);
    expect((await audit({ actor: key.id, until: start })).entries).toHaveLength(0);
  });

  it("pages with a cursor, without gaps or repeats", async () => {
    const key = await createKey();
    const pool = uniquePool();
    const ids = [rid(), rid(), rid(), rid(), rid()];
    for (const id of ids) await createTaskAs(key.key, { pool }, { "x-request-id": id });
    for (const id of ids) await entriesFor(id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: AuditPage = await audit({ actor: key.id, limit: "2", ...(cursor ? { cursor } : {}) });
      expect(page.entries.length).toBeLessThanOrEqual(2);
      seen.push(...page.entries.map((e) => e.request_id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  it.each([
    ["an unknown action", { action: "task.purge" }, "action"],
    ["a time without a zone", { since: "2026-01-01T00:00:00" }, "since"],
    ["a limit too large", { limit: "501" }, "limit"],
    ["a cursor that is not one", { cursor: "abc" }, "cursor"],
    ["a cursor of the old form", { cursor: "12" }, "cursor"],
    ["an unknown parameter", { actr: "admin" }, "actr"],
  ])("refuses %s, naming the parameter", async (_name, query, field) => {
    await expectError(await apiFetch(`/api/v1/audit?${new URLSearchParams(query)}`), 400, "validation_failed", field);
  });
});

describe("day shards", () => {
  const base = (dayOf(Date.now()) - 3) * DAY_MS; // midnight (UTC), three days ago
  const entry = (at: number, actor: string, target: string, n: number): AuditRecord => ({
    at,
    actor,
    clientIp: null,
    requestId: `r${n}`,
    action: "key.create",
    target,
    outcome: "success",
    errorCode: null,
  });

  /** Writes entries around midnight three days ago, each by its own actor, as `recordAudit` does. */
  async function writeAroundMidnight(target: string): Promise<AuditRecord[]> {
    const times = [base - 2, base - 1, base, base + 1, base + 2];
    const records = times.map((at, n) => entry(at, `actor-${crypto.randomUUID()}`, target, n));
    for (const r of records) await auditShard(env as Env, dayOf(r.at), auditShardOf(r.actor)).record(r, auditShardOf(r.actor));
    return records;
  }

  it("spreads a day's entries over several shards and pages newest first across the day boundary", async () => {
    const target = `key_${crypto.randomUUID()}`;
    await writeAroundMidnight(target);
    const seen: AuditEntry[] = [];
    let cursor: string | null = null;
    do {
      const page: AuditPage = await audit({ target, limit: "2", ...(cursor ? { cursor } : {}) });
      seen.push(...page.entries);
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen.map((e) => e.request_id)).toEqual(["r4", "r3", "r2", "r1", "r0"]);
    expect(seen.map((e) => Date.parse(e.at) - base)).toEqual([2, 1, 0, -1, -2]);
    // The entry ids carry their slice of the day: five actors did not all land in one object.
    expect(new Set(seen.map((e) => e.id.split("-")[1])).size).toBeGreaterThan(1);

    // A time range that ends at midnight shows only the day before; one actor's query works alike.
    expect((await audit({ target, until: new Date(base).toISOString() })).entries.map((e) => e.request_id)).toEqual(["r1", "r0"]);
    expect((await audit({ target, since: new Date(base).toISOString() })).entries.map((e) => e.request_id)).toEqual(["r4", "r3", "r2"]);
    expect((await audit({ actor: seen[0]!.actor })).entries.map((e) => e.request_id)).toEqual(["r4"]);
  });

  it("exports a time range as NDJSON, oldest first, and resumes after a cursor", async () => {
    const target = `key_${crypto.randomUUID()}`;
    await writeAroundMidnight(target);
    const range = { since: new Date(base - DAY_MS).toISOString(), until: new Date(base + DAY_MS).toISOString() };
    const res = await apiFetch(`/api/v1/audit/export?${new URLSearchParams(range)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    const lines = (await res.text())
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as AuditEntry);
    const ours = lines.filter((e) => e.target === target);
    expect(ours.map((e) => e.request_id)).toEqual(["r0", "r1", "r2", "r3", "r4"]);
    for (const line of lines) AuditEntry.parse(line);

    const rest = await apiFetch(`/api/v1/audit/export?${new URLSearchParams({ ...range, cursor: ours[1]!.id })}`);
    const after = (await rest.text())
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as AuditEntry)
      .filter((e) => e.target === target);
    expect(after.map((e) => e.request_id)).toEqual(["r2", "r3", "r4"]);
  });

  it("exports only for admins, and refuses a bad range", async () => {
    const reader = await createKey({ scopes: ["tasks:read"] });
    await expectError(await apiFetch("/api/v1/audit/export", { key: reader.key }), 403, "forbidden");
    await expectError(await apiFetch("/api/v1/audit/export?since=yesterday"), 400, "validation_failed", "since");
    await expectError(await apiFetch("/api/v1/audit/export?cursor=12"), 400, "validation_failed", "cursor");
  });
});

describe("retention", () => {
  it("arms each shard's alarm for the end of its day plus the retention, and the alarm empties the shard", async () => {
    const actor = `actor-${crypto.randomUUID()}`;
    const today = dayOf(Date.now());
    const stub = auditShard(env as Env, today, auditShardOf(actor));
    await stub.record(
      { at: Date.now(), actor, clientIp: null, requestId: "kept", action: "key.create", target: null, outcome: "success", errorCode: null },
      auditShardOf(actor),
    );
    const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBe((today + 1 + AUDIT_RETENTION_DAYS) * DAY_MS);

    // A shard of a day past the window: its alarm is due, and firing it leaves nothing.
    const oldDay = today - AUDIT_RETENTION_DAYS - 2;
    const old = auditShard(env as Env, oldDay, auditShardOf(actor));
    await old.record(
      {
        at: oldDay * DAY_MS + 1_000,
        actor,
        clientIp: null,
        requestId: "gone",
        action: "key.create",
        target: null,
        outcome: "success",
        errorCode: null,
      },
      auditShardOf(actor),
    );
    // The alarm is due at once: workerd may already be running it, when this finds none to run.
    await runDurableObjectAlarm(old);
    const tablesLeft = () =>
      runInDurableObject(old, (_instance, state) => state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'audit'").toArray().length);
    await expect.poll(tablesLeft, { timeout: 10_000 }).toBe(0);
    expect((await audit({ actor })).entries.map((e) => e.request_id)).toEqual(["kept"]);
  });
});
