/**
 * Integration: upgrading over the unsharded key store. Keys made when every key lived in the one
 * `KeyStore` object named `global` keep working once the store is sharded: each shard takes its
 * own from there when it first wakes, before it answers a lookup — secrets, revocations and
 * rotation overlaps as they were.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { newKeyId } from "#api/ids.js";
import { ApiKey } from "#api/keys.js";
import type { Env } from "../../edge/src/env.js";
import { KEY_SHARDS, keyShard } from "../../edge/src/keys/key-shards.js";
import type { KeyStore } from "../../edge/src/keys/key-store-object.js";
import { LEGACY_KEY_STORE_NAME } from "../../edge/src/keys/legacy-keys.js";
import { shardIndex } from "../../edge/src/sharding/shard-index.js";
import { apiFetch, expectError } from "./api-client.js";

const e = env as Env;
const legacy = () => e.KEYS.get(e.KEYS.idFromName(LEGACY_KEY_STORE_NAME)) as unknown as DurableObjectStub<KeyStore>;

/** Makes a key the way the unsharded store did: in the `global` object. */
async function legacyKey(name: string): Promise<{ id: string; key: string }> {
  const made = await legacy().create({ id: newKeyId(), request: { name, scopes: ["tasks:read"], allowed_cidrs: [], limits: {} }, createdBy: "key_admin" });
  if (!made.ok) throw new Error(made.message);
  return { id: made.value.id, key: made.value.key };
}

describe("key store upgrade", () => {
  it("finds, lists and revokes keys made before the shards, each in the shard its id names", async () => {
    const made = [await legacyKey("old-1"), await legacyKey("old-2"), await legacyKey("old-3")];
    const revoked = await legacyKey("old-revoked");
    expect((await legacy().revoke(revoked.id)).ok).toBe(true);

    for (const k of made) expect((await apiFetch("/api/v1/tasks?limit=1", { key: k.key })).status).toBe(200);
    await expectError(await apiFetch("/api/v1/tasks?limit=1", { key: revoked.key }), 401, "unauthorized");

    // Copied into its own shard, and only there; the former object still has it (it is only read).
    for (const k of made) {
      const holds = (index: number) =>
        runInDurableObject(keyShard(e, index), (_i, state) => state.storage.sql.exec("SELECT 1 FROM keys WHERE id = ?", k.id).toArray().length);
      expect(await holds(shardIndex(k.id, KEY_SHARDS))).toBe(1);
      expect(await holds((shardIndex(k.id, KEY_SHARDS) + 1) % KEY_SHARDS)).toBe(0);
    }
    // An admin reads and revokes an old key through the API as any other.
    const shown = ApiKey.parse(await (await apiFetch(`/api/v1/keys/${made[0]!.id}`)).json());
    expect(shown).toMatchObject({ id: made[0]!.id, name: "old-1", status: "active" });
    expect((await apiFetch(`/api/v1/keys/${made[0]!.id}/revoke`, { method: "POST" })).status).toBe(200);
  });
});
