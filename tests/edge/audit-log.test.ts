/**
 * Integration: the audit log. Task and key changes are recorded with actor, client address,
 * request id, time, target and outcome (refusals too, with their error code), never a
 * secret; admins read it filtered and paged; it stays within its retention bound.
 */
import { runInDurableObject, env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { AuditPage, type AuditEntry } from "#api/audit.js";
import { AUDIT_RETENTION_DAYS } from "#api/limits.js";
import { appendAudit, auditCount, pruneAudit } from "../../edge/src/audit/audit-store.js";
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
    ["an unknown parameter", { actr: "admin" }, "actr"],
  ])("refuses %s, naming the parameter", async (_name, query, field) => {
    await expectError(await apiFetch(`/api/v1/audit?${new URLSearchParams(query)}`), 400, "validation_failed", field);
  });
});

describe("retention", () => {
  it("keeps at most the newest maxRows entries and none older than the age bound", async () => {
    const stub = env.AUDIT.get(env.AUDIT.idFromName(`retention-${crypto.randomUUID()}`));
    const counts = await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      const now = Date.now();
      const day = 86_400_000;
      const entry = (at: number, n: number) => ({
        at,
        actor: "admin",
        clientIp: null,
        requestId: `r${n}`,
        action: "task.create" as const,
        target: null,
        outcome: "success" as const,
        errorCode: null,
      });
      appendAudit(sql, entry(now - (AUDIT_RETENTION_DAYS + 1) * day, 0));
      for (let n = 1; n <= 10; n++) appendAudit(sql, entry(now, n));
      const before = auditCount(sql);
      pruneAudit(sql, { now, maxAgeMs: AUDIT_RETENTION_DAYS * day, maxRows: 1_000 });
      const afterAge = auditCount(sql);
      pruneAudit(sql, { now, maxAgeMs: AUDIT_RETENTION_DAYS * day, maxRows: 4 });
      const kept = sql
        .exec<{ request_id: string }>("SELECT request_id FROM audit ORDER BY seq")
        .toArray()
        .map((r) => r.request_id);
      return { before, afterAge, kept };
    });
    expect(counts).toEqual({ before: 11, afterAge: 10, kept: ["r7", "r8", "r9", "r10"] });
  });
});
