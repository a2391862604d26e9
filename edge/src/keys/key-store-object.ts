/**
 * `KeyStore`: the one Durable Object that holds every API key (SQLite), and answers the auth
 * middleware's lookups by secret hash.
 *
 * One object is enough: each isolate asks it about a key at most once per
 * `KEY_CACHE_TTL_MS` (see `key-cache.ts`), and key management is rare. Secrets are made here,
 * hashed, stored as hashes, and handed back once to the route that asked for them.
 * @module
 */
import type { ErrorCode } from "#api/errors.js";
import { newApiKeyToken, newKeyId } from "#api/ids.js";
import type { ApiKey, ApiKeyList, ApiKeyWithSecret, CreateKeyRequest } from "#api/keys.js";
import { KEY_LIVE_SECRETS_MAX, KEYS_MAX } from "#api/limits.js";
import { sha256Hex } from "#api/signing.js";
import type { Env } from "../env.js";
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

type Outcome<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string };

const notFound = { ok: false, code: "not_found", message: "key not found" } as const;

/** The key store of this deployment. */
export function keyStoreOf(env: Env) {
  return env.KEYS.get(env.KEYS.idFromName("global"));
}

export class KeyStore extends SqlObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, KEY_STORE_MIGRATIONS);
  }

  /** The key and secret expiry behind a secret's SHA-256, or null. */
  async lookup(hash: string): Promise<KeyCredential | null> {
    return findByHash(this.sql, hash);
  }

  async create(input: { request: CreateKeyRequest; createdBy: string }): Promise<Outcome<ApiKeyWithSecret>> {
    const id = newKeyId();
    const token = newApiKeyToken(id);
    const hash = await sha256Hex(token);
    if (countKeys(this.sql) >= KEYS_MAX) return { ok: false, code: "conflict", message: `the key store holds ${KEYS_MAX} keys, its limit` };
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

  async list(input: { limit: number; cursor: number | null }): Promise<ApiKeyList> {
    const now = Date.now();
    const page = listKeys(this.sql, input.limit + 1, input.cursor);
    const keys = page.slice(0, input.limit);
    return {
      keys: keys.map((k) => this.view(k, now)),
      next_cursor: page.length > input.limit ? String(keys[keys.length - 1]!.seq) : null,
    };
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
