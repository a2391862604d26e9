/**
 * `KeyStore`: one shard of the API keys (SQLite): the keys whose id hashes to it (see
 * `key-shards.ts`), with the hashes of their secrets, and the auth middleware's lookups of
 * them by secret hash. Each isolate asks about a key at most once per `KEY_CACHE_TTL_MS` (see
 * `key-cache.ts`). Secrets are made here, hashed, stored as hashes, and handed back once to
 * the route that asked for them.
 * @module
 */
import type { ErrorCode } from "#api/errors.js";
import { newApiKeyToken } from "#api/ids.js";
import type { ApiKey, ApiKeyWithSecret, CreateKeyRequest } from "#api/keys.js";
import { KEY_LIVE_SECRETS_MAX, KEYS_MAX } from "#api/limits.js";
import { sha256Hex } from "#api/signing.js";
import type { Env } from "../env.js";
import { logFor } from "../log.js";
import { SqlObject } from "../sql/sql-object.js";
import {
  countKeys,
  findByHash,
  getKey,
  insertKey,
  KEY_STORE_MIGRATIONS,
  listKeys,
  liveSecretCount,
  previousSecretExpiry,
  revokeKey,
  rotateSecret,
  type KeyCredential,
  type KeyRecord,
} from "./key-store.js";
import { toApiKey } from "./key-view.js";
import { adoptedLegacyKeys, adoptLegacyKeys, LEGACY_KEY_STORE_NAME, type LegacyKeys, legacyKeysFor, shardOfName } from "./legacy-keys.js";

type Outcome<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string };

const notFound = { ok: false, code: "not_found", message: "key not found" } as const;

export class KeyStore extends SqlObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, KEY_STORE_MIGRATIONS);
    const shard = shardOfName(ctx.id.name);
    if (shard !== null && !adoptedLegacyKeys(ctx.storage.kv)) {
      // Before any lookup: a key made before the shards must be found from the first request on.
      ctx.blockConcurrencyWhile(async () => {
        try {
          adoptLegacyKeys(ctx.storage, await this.legacy().handOver(shard));
        } catch (err) {
          // Tried again at the next wake; meanwhile this shard answers with the keys it has.
          logFor(env).error("taking keys over from the former key store failed", { shard, error: String(err) });
        }
      });
    }
  }

  /** Run in the former, unsharded object: the keys that belong in `shard`, to be copied there. */
  async handOver(shard: number): Promise<LegacyKeys> {
    return legacyKeysFor(this.sql, shard);
  }

  private legacy() {
    return this.env.KEYS.get(this.env.KEYS.idFromName(LEGACY_KEY_STORE_NAME));
  }

  /** The key and secret expiry behind a secret's SHA-256, or null. */
  async lookup(hash: string): Promise<KeyCredential | null> {
    return findByHash(this.sql, hash);
  }

  /** Makes key `id` (the caller minted it, and asked the shard it hashes to). */
  async create(input: { id: string; request: CreateKeyRequest; createdBy: string }): Promise<Outcome<ApiKeyWithSecret>> {
    const { id } = input;
    const token = newApiKeyToken(id);
    const hash = await sha256Hex(token);
    if (countKeys(this.sql) >= KEYS_MAX) return { ok: false, code: "conflict", message: `this key store shard holds ${KEYS_MAX} keys, its limit` };
    const now = Date.now();
    const { request } = input;
    const key = insertKey(
      this.sql,
      {
        id,
        name: request.name,
        scopes: request.scopes,
        createdAt: now,
        createdBy: input.createdBy,
        expiresAt: request.expires_at === undefined ? null : Date.parse(request.expires_at),
        allowedCidrs: request.allowed_cidrs,
        limits: request.limits,
      },
      hash,
    );
    return { ok: true, value: { ...this.view(key, now), key: token } };
  }

  async get(id: string): Promise<Outcome<ApiKey>> {
    const key = getKey(this.sql, id);
    return key ? { ok: true, value: this.view(key, Date.now()) } : notFound;
  }

  /** This shard's newest `limit` keys created before `before` (see `key-list.ts`, which merges the shards). */
  async page(input: { limit: number; before: { createdAt: number; id: string } | null }): Promise<ApiKey[]> {
    const now = Date.now();
    return listKeys(this.sql, input.limit, input.before).map((k) => this.view(k, now));
  }

  async rotate(input: { id: string; overlapMs: number }): Promise<Outcome<ApiKeyWithSecret>> {
    const token = newApiKeyToken(input.id);
    const hash = await sha256Hex(token);
    const now = Date.now();
    const key = getKey(this.sql, input.id);
    if (!key) return notFound;
    if (key.revokedAt !== null) return { ok: false, code: "invalid_state", message: "key is revoked" };
    if (input.overlapMs > 0 && liveSecretCount(this.sql, key.id, now) >= KEY_LIVE_SECRETS_MAX) {
      return {
        ok: false,
        code: "conflict",
        message: `key already has ${KEY_LIVE_SECRETS_MAX} working secrets; wait for an overlap to end, or rotate with overlap_seconds 0`,
      };
    }
    rotateSecret(this.sql, key.id, hash, now, input.overlapMs);
    return { ok: true, value: { ...this.view(getKey(this.sql, key.id)!, now), key: token } };
  }

  async revoke(id: string): Promise<Outcome<ApiKey>> {
    const now = Date.now();
    if (!getKey(this.sql, id)) return notFound;
    revokeKey(this.sql, id, now);
    return { ok: true, value: this.view(getKey(this.sql, id)!, now) };
  }

  private view(key: KeyRecord, now: number): ApiKey {
    return toApiKey(key, { now, previousSecretExpiresAt: previousSecretExpiry(this.sql, key.id, now) });
  }
}
