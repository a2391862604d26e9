/**
 * Integration: the key API through the real Worker — create (secret shown once, only its hash
 * stored), read, list with paging across the key store's shards, rotate, revoke — and who may
 * use it.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { API_KEY_PATTERN, KEY_ID_PATTERN } from "#api/ids.js";
import { ApiKey, ApiKeyList } from "#api/keys.js";
import { sha256Hex } from "#api/signing.js";
import type { Env } from "../../edge/src/env.js";
import { KEY_SHARDS, keyShard } from "../../edge/src/keys/key-shards.js";
import { shardIndex } from "../../edge/src/sharding/shard-index.js";
import { apiFetch, expectError, uniquePool } from "./api-client.js";
import { createKey, createTaskAs, keyStoreObject, readStatus, rotateKey } from "./key-client.js";

describe("creating keys", () => {
  it("returns the key once, with its settings, and the key works", async () => {
    const res = await apiFetch("/api/v1/keys", {
      json: { name: "ci", scopes: ["tasks:read", "tasks:write"], allowed_cidrs: ["0.0.0.0/0", "::/0"], limits: { max_concurrent_tasks: 2 } },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const created = (await res.json()) as { id: string; key: string };
    expect(created).toMatchObject({
      name: "ci",
      scopes: ["tasks:read", "tasks:write"],
      status: "active",
      created_by: "admin",
      expires_at: null,
      revoked_at: null,
      allowed_cidrs: ["0.0.0.0/0", "::/0"],
      limits: { max_concurrent_tasks: 2 },
    });
    expect(created.id).toMatch(KEY_ID_PATTERN);
    expect(created.key).toMatch(API_KEY_PATTERN);
    expect(created.key).toContain(created.id);
    expect(res.headers.get("location")).toBe(`/api/v1/keys/${created.id}`);

    const from = { "cf-connecting-ip": "198.51.100.7" };
    const task = await createTaskAs(created.key, { pool: uniquePool() }, from);
    expect(await readStatus(created.key, task.id, from)).toBe(200);

    // Read back: everything but the secret.
    const read = await apiFetch(`/api/v1/keys/${created.id}`);
    const text = await read.text();
    expect(read.status).toBe(200);
    expect(text).not.toContain(created.key.slice(-52));
    expect(ApiKey.strict().parse(JSON.parse(text)).id).toBe(created.id);
  });

  it("stores only the SHA-256 of the secret", async () => {
    const { id, key } = await createKey();
    const secret = key.slice(-52);
    // Every table but the runtime's own (`_cf_…`, which SQL may not read).
    const dump = await runInDurableObject(keyStoreObject(id), (_instance, state) => {
      const tables = state.storage.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'")
        .toArray();
      return tables.map((t) => JSON.stringify(state.storage.sql.exec(`SELECT * FROM "${t.name}"`).toArray())).join("\n");
    });
    expect(dump).toContain(id);
    expect(dump).not.toContain(secret);
    expect(dump).toContain(await sha256Hex(key));
  });

  it.each([
    ["no scopes", { name: "x", scopes: [] }, "scopes"],
    ["an unknown scope", { name: "x", scopes: ["tasks:delete"] }, "scopes.0"],
    ["a repeated scope", { name: "x", scopes: ["admin", "admin"] }, "scopes"],
    ["an empty name", { name: "", scopes: ["admin"] }, "name"],
    ["a name with a newline", { name: "a\nb", scopes: ["admin"] }, "name"],
    ["a range with host bits", { name: "x", scopes: ["admin"], allowed_cidrs: ["10.0.0.1/8"] }, "allowed_cidrs.0"],
    ["an address that is not one", { name: "x", scopes: ["admin"], allowed_cidrs: ["10.0.0.256"] }, "allowed_cidrs.0"],
    ["an expiry without a zone", { name: "x", scopes: ["admin"], expires_at: "2099-01-01T00:00:00" }, "expires_at"],
    ["an expiry in the past", { name: "x", scopes: ["admin"], expires_at: "2020-01-01T00:00:00Z" }, "expires_at"],
    ["a zero limit", { name: "x", scopes: ["admin"], limits: { max_queued_tasks: 0 } }, "limits.max_queued_tasks"],
    ["an unknown limit", { name: "x", scopes: ["admin"], limits: { max_tasks: 3 } }, "limits.max_tasks"],
    ["an unknown field", { name: "x", scopes: ["admin"], secret: "mine" }, "secret"],
  ])("refuses %s, naming the field", async (_name, json, field) => {
    await expectError(await apiFetch("/api/v1/keys", { json }), 400, "validation_failed", field);
  });
});

describe("listing and reading keys", () => {
  it("lists keys newest first, a page at a time", async () => {
    const made = [await createKey({ name: "page-1" }), await createKey({ name: "page-2" }), await createKey({ name: "page-3" })];
    const first = ApiKeyList.parse(await (await apiFetch("/api/v1/keys?limit=2")).json());
    expect(first.keys.map((k) => k.id)).toEqual([made[2]!.id, made[1]!.id]);
    expect(first.next_cursor).not.toBeNull();
    const second = ApiKeyList.parse(await (await apiFetch(`/api/v1/keys?limit=2&cursor=${first.next_cursor}`)).json());
    expect(second.keys[0]!.id).toBe(made[0]!.id);
    expect(JSON.stringify([first, second])).not.toMatch(/cf_key_/);
  });

  it("spreads keys over the key store shards, and the list merges them newest first", async () => {
    const made: { id: string; key: string }[] = [];
    for (let i = 0; i < 6; i++) made.push(await createKey({ name: `spread-${i}` }));
    const shards = new Set(made.map((k) => shardIndex(k.id, KEY_SHARDS)));
    expect(shards.size, "six keys in one shard").toBeGreaterThan(1);
    // Each key is in the shard its id names, and only there.
    for (const k of made) {
      const holds = async (index: number) =>
        runInDurableObject(keyShard(env as Env, index), (_instance, state) => state.storage.sql.exec("SELECT 1 FROM keys WHERE id = ?", k.id).toArray().length);
      expect(await holds(shardIndex(k.id, KEY_SHARDS))).toBe(1);
      expect(await holds((shardIndex(k.id, KEY_SHARDS) + 1) % KEY_SHARDS)).toBe(0);
    }
    // Page through everything one key at a time: ours come out newest first, none twice.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: ApiKeyList = ApiKeyList.parse(await (await apiFetch(`/api/v1/keys?limit=1${cursor ? `&cursor=${cursor}` : ""}`)).json());
      seen.push(...page.keys.map((k) => k.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => made.some((k) => k.id === id))).toEqual(made.map((k) => k.id).reverse());
    // And each authenticates through its own shard.
    for (const k of made) expect((await apiFetch("/api/v1/tasks?limit=1", { key: k.key })).status).toBe(200);
  });

  it("answers 404 for a key that does not exist, well-formed id or not", async () => {
    await expectError(await apiFetch("/api/v1/keys/key_0000000000000000"), 404, "not_found");
    await expectError(await apiFetch("/api/v1/keys/nope"), 404, "not_found");
    await expectError(await apiFetch("/api/v1/keys/key_0000000000000000/revoke", { method: "POST" }), 404, "not_found");
  });

  it("refuses bad paging input", async () => {
    await expectError(await apiFetch("/api/v1/keys?limit=0"), 400, "validation_failed", "limit");
    await expectError(await apiFetch("/api/v1/keys?cursor=abc"), 400, "validation_failed", "cursor");
    await expectError(await apiFetch("/api/v1/keys?colour=red"), 400, "validation_failed", "colour");
  });
});

describe("rotating and revoking", () => {
  it("rotation gives a new secret for the same key id, and tasks stay the key's own", async () => {
    const key = await createKey();
    const task = await createTaskAs(key.key, { pool: uniquePool() });
    const rotated = await rotateKey(key.id, 0);
    expect(rotated.id).toBe(key.id);
    expect(rotated.key).not.toBe(key.key);
    expect(rotated.rotated_at).not.toBeNull();
    expect(await readStatus(rotated.key, task.id)).toBe(200);
    expect(await readStatus(key.key, task.id)).toBe(401);
  });

  it("rotation with an empty body keeps the old secret for the default day", async () => {
    const key = await createKey();
    const before = Date.now();
    const rotated = await rotateKey(key.id);
    const until = Date.parse(rotated.previous_secret_expires_at!);
    expect(until).toBeGreaterThanOrEqual(before + 86_400_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 86_400_000);
  });

  it("refuses an overlap beyond the maximum, and a rotation past the live-secret bound", async () => {
    const key = await createKey();
    await expectError(await apiFetch(`/api/v1/keys/${key.id}/rotate`, { json: { overlap_seconds: 8 * 86_400 } }), 400, "validation_failed", "overlap_seconds");
    await rotateKey(key.id, 600);
    await rotateKey(key.id, 600);
    await expectError(await apiFetch(`/api/v1/keys/${key.id}/rotate`, { json: { overlap_seconds: 600 } }), 409, "conflict");
    // Overlap 0 ends every older secret, so it is always possible.
    await rotateKey(key.id, 0);
  });

  it("revocation refuses the key at once on this edge, shows it revoked, and cannot be undone by rotating", async () => {
    const key = await createKey();
    const task = await createTaskAs(key.key, { pool: uniquePool() });
    expect(await readStatus(key.key, task.id)).toBe(200);
    const res = await apiFetch(`/api/v1/keys/${key.id}/revoke`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: key.id, status: "revoked", revoked_at: expect.any(String) });
    const refused = await apiFetch(`/api/v1/tasks/${task.id}`, { key: key.key });
    expect((await expectError(refused, 401, "unauthorized")).error.message).toMatch(/revoked/);
    await expectError(await apiFetch(`/api/v1/keys/${key.id}/rotate`, { method: "POST" }), 409, "invalid_state");
  });
});

describe("who may manage keys", () => {
  it("refuses keys without the admin scope with 403, and lets admin-scoped keys in", async () => {
    const user = await createKey({ scopes: ["tasks:read", "tasks:write"] });
    const admin = await createKey({ scopes: ["admin"] });
    for (const [method, path] of [
      ["POST", "/api/v1/keys"],
      ["GET", "/api/v1/keys"],
      ["GET", `/api/v1/keys/${user.id}`],
      ["POST", `/api/v1/keys/${user.id}/rotate`],
      ["POST", `/api/v1/keys/${user.id}/revoke`],
      ["GET", "/api/v1/audit"],
    ] as const) {
      const json = method === "POST" && path === "/api/v1/keys" ? { name: "x", scopes: ["admin"] } : undefined;
      await expectError(await apiFetch(path, { method, key: user.key, json }), 403, "forbidden");
    }
    const made = await apiFetch("/api/v1/keys", { key: admin.key, json: { name: "made by an admin key", scopes: ["tasks:read"] } });
    expect(made.status).toBe(201);
    expect(await made.json()).toMatchObject({ created_by: admin.id });
  });

  it("answers 405 with Allow for the wrong method", async () => {
    const res = await apiFetch("/api/v1/keys/key_0000000000000000", { method: "DELETE" });
    expect(res.headers.get("allow")).toBe("GET");
    await expectError(res, 405, "method_not_allowed");
  });
});
