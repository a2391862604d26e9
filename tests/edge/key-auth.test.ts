/**
 * Integration: what a key may do and when it stops working — scopes (403), expiry (401), the
 * IP allowlist (403), rotation overlaps, and revocation reaching every isolate within the
 * cache bound. The clock is moved with `advanceClock`; the Worker reads the same clock.
 */
import { SELF, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { KEY_CACHE_TTL_MS } from "../../edge/src/keys/key-cache.js";
import { revokeKey } from "../../edge/src/keys/key-store.js";
import { ORIGIN, apiFetch, createTask, expectError, uniquePool } from "./api-client.js";
import { advanceClock } from "./clock.js";
import { createKey, createTaskAs, keyStoreObject, readStatus, rotateKey } from "./key-client.js";

describe("scopes", () => {
  it("tasks:read reads its own tasks but may not submit or cancel", async () => {
    const writer = await createKey({ scopes: ["tasks:read", "tasks:write"] });
    const reader = await createKey({ scopes: ["tasks:read"] });
    // A reader cannot submit, so it has no tasks of its own: another key's task is a 404 to it.
    const task = await createTaskAs(writer.key, { pool: uniquePool() });
    await expectError(await apiFetch("/api/v1/tasks", { key: reader.key, json: { prompt: "x" } }), 403, "forbidden");
    await expectError(await apiFetch(`/api/v1/tasks/${task.id}/cancel`, { key: reader.key, method: "POST" }), 403, "forbidden");
    expect(await readStatus(reader.key, task.id)).toBe(404);
    expect(await readStatus(writer.key, task.id)).toBe(200);
  });

  it("tasks:write submits and cancels but may not read, page events or stream", async () => {
    const writer = await createKey({ scopes: ["tasks:write"] });
    const task = await createTaskAs(writer.key, { pool: uniquePool() });
    for (const path of [`/api/v1/tasks/${task.id}`, `/api/v1/tasks/${task.id}/events`]) {
      const body = await expectError(await apiFetch(path, { key: writer.key }), 403, "forbidden");
      expect(body.error.message).toContain("tasks:read");
    }
    const stream = await SELF.fetch(`${ORIGIN}/api/v1/tasks/${task.id}/stream`, { headers: { authorization: `Bearer ${writer.key}`, upgrade: "websocket" } });
    await expectError(stream, 403, "forbidden");
    const cancel = await apiFetch(`/api/v1/tasks/${task.id}/cancel`, { key: writer.key, method: "POST" });
    expect(cancel.status).toBe(200);
  });

  it("webhook routes: the signing secret needs tasks:write, deliveries tasks:read, dead letters admin", async () => {
    const reader = await createKey({ scopes: ["tasks:read"] });
    const writer = await createKey({ scopes: ["tasks:write"] });
    for (const [path, method] of [
      ["/api/v1/webhook-secret", "GET"],
      ["/api/v1/webhook-secret/rotate", "POST"],
    ] as const) {
      const body = await expectError(await apiFetch(path, { key: reader.key, method }), 403, "forbidden");
      expect(body.error.message).toContain("tasks:write");
    }
    const secret = await apiFetch("/api/v1/webhook-secret", { key: writer.key });
    expect(secret.status).toBe(200);
    expect(((await secret.json()) as { secret: string }).secret).toMatch(/^whsec_/);

    const task = await createTaskAs(writer.key, { pool: uniquePool() });
    const deliveries = await expectError(await apiFetch(`/api/v1/tasks/${task.id}/deliveries`, { key: writer.key }), 403, "forbidden");
    expect(deliveries.error.message).toContain("tasks:read");
    for (const key of [reader.key, writer.key]) {
      const body = await expectError(await apiFetch("/api/v1/dead-letters", { key }), 403, "forbidden");
      expect(body.error.message).toContain("admin");
    }
  });

  it("admin holds every scope and sees every task", async () => {
    const admin = await createKey({ scopes: ["admin"] });
    const other = await createKey();
    const theirs = await createTaskAs(other.key, { pool: uniquePool() });
    expect(await readStatus(admin.key, theirs.id)).toBe(200);
    const own = await createTaskAs(admin.key, { pool: uniquePool() });
    expect((await apiFetch(`/api/v1/tasks/${own.id}/cancel`, { key: admin.key, method: "POST" })).status).toBe(200);
  });
});

describe("expiry", () => {
  it("a key works until its expires_at and is refused with 401 from then on", async () => {
    const key = await createKey({ expires_at: new Date(Date.now() + 60_000).toISOString() });
    const task = await createTaskAs(key.key, { pool: uniquePool() });
    advanceClock(59_000);
    expect(await readStatus(key.key, task.id)).toBe(200);
    advanceClock(1_000);
    const res = await apiFetch(`/api/v1/tasks/${task.id}`, { key: key.key });
    expect((await expectError(res, 401, "unauthorized")).error.message).toMatch(/expired/);
    expect((await (await apiFetch(`/api/v1/keys/${key.id}`)).json()) as object).toMatchObject({ status: "expired" });
  });
});

describe("IP allowlist", () => {
  const from = (ip: string) => ({ "cf-connecting-ip": ip });

  it("accepts requests from the listed ranges only, IPv4, IPv6 and IPv4-mapped alike", async () => {
    const key = await createKey({ allowed_cidrs: ["203.0.113.0/24", "2001:db8::/32"] });
    const task = await createTaskAs(key.key, { pool: uniquePool() }, from("203.0.113.200"));
    expect(await readStatus(key.key, task.id, from("203.0.113.9"))).toBe(200);
    expect(await readStatus(key.key, task.id, from("::ffff:203.0.113.9"))).toBe(200);
    expect(await readStatus(key.key, task.id, from("2001:DB8:1::5"))).toBe(200);
    for (const ip of ["203.0.114.1", "198.51.100.1", "2001:db9::1", "::1"]) {
      const body = await expectError(await apiFetch(`/api/v1/tasks/${task.id}`, { key: key.key, headers: from(ip) }), 403, "forbidden");
      expect(body.error.message).toMatch(/address/);
    }
  });

  it("refuses a request whose address is unknown or not an address", async () => {
    const key = await createKey({ allowed_cidrs: ["0.0.0.0/0", "::/0"] });
    expect(await readStatus(key.key, "tsk_0000000000aaaaaaaaaaaaaaaa", from("192.0.2.1"))).toBe(404);
    expect(await readStatus(key.key, "tsk_0000000000aaaaaaaaaaaaaaaa")).toBe(403);
    expect(await readStatus(key.key, "tsk_0000000000aaaaaaaaaaaaaaaa", from("not-an-ip"))).toBe(403);
  });

  it("a key without an allowlist works from anywhere", async () => {
    const key = await createKey();
    expect(await readStatus(key.key, "tsk_0000000000aaaaaaaaaaaaaaaa", from("192.0.2.1"))).toBe(404);
    expect(await readStatus(key.key, "tsk_0000000000aaaaaaaaaaaaaaaa")).toBe(404);
  });
});

describe("rotation overlap", () => {
  it("old and new secrets both work during the overlap, and only the new one after", async () => {
    const key = await createKey();
    const task = await createTaskAs(key.key, { pool: uniquePool() });
    const rotated = await rotateKey(key.id, 60);
    expect(Date.parse(rotated.previous_secret_expires_at!)).toBeGreaterThan(Date.now() + 59_000);
    expect(await readStatus(key.key, task.id)).toBe(200);
    expect(await readStatus(rotated.key, task.id)).toBe(200);
    advanceClock(59_000);
    expect(await readStatus(key.key, task.id)).toBe(200);
    advanceClock(1_000);
    const res = await apiFetch(`/api/v1/tasks/${task.id}`, { key: key.key });
    expect((await expectError(res, 401, "unauthorized")).error.message).toMatch(/rotated/);
    expect(await readStatus(rotated.key, task.id)).toBe(200);
  });

  it("a second rotation during an overlap does not extend the first secret's life", async () => {
    const key = await createKey();
    const second = await rotateKey(key.id, 60);
    advanceClock(30_000);
    const third = await rotateKey(key.id, 600);
    advanceClock(30_000);
    const probe = "tsk_0000000000aaaaaaaaaaaaaaaa";
    expect(await readStatus(key.key, probe)).toBe(401);
    expect(await readStatus(second.key, probe)).toBe(404);
    expect(await readStatus(third.key, probe)).toBe(404);
  });
});

describe("revocation on every isolate", () => {
  it(`a key revoked elsewhere is refused here within KEY_CACHE_TTL_MS (${KEY_CACHE_TTL_MS} ms)`, async () => {
    const key = await createKey();
    const task = await createTaskAs(key.key, { pool: uniquePool() });
    // This isolate has now cached the key. Revoke it in the store directly, as a revoke that
    // went through another isolate would: nothing here is told.
    expect(await readStatus(key.key, task.id)).toBe(200);
    await runInDurableObject(keyStoreObject(key.id), (_instance, state) => revokeKey(state.storage.sql, key.id, Date.now()));
    advanceClock(KEY_CACHE_TTL_MS);
    const res = await apiFetch(`/api/v1/tasks/${task.id}`, { key: key.key });
    expect((await expectError(res, 401, "unauthorized")).error.message).toMatch(/revoked/);
  });

  it("the bootstrap admin key is unaffected by the key store", async () => {
    const task = await createTask({ pool: uniquePool() });
    expect(task.status).toBe("queued");
  });
});
