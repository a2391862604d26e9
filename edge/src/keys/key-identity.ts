/**
 * Who a key makes its caller, whether it is presented (a bearer key, a key pasted at sign-in)
 * or named by its SHA-256 (a session cookie holds only that).
 *
 * Two kinds of key: the bootstrap admin key from `CODEFORGE_ADMIN_KEY` (compared as SHA-256
 * digests in constant time, so neither its length nor a prefix leaks through timing), and
 * keys made through `/api/v1/keys`, looked up in the key store by the SHA-256 of the secret.
 * Lookups are cached per isolate for at most `KEY_CACHE_TTL_MS`, so a revocation reaches
 * every isolate within seconds; expiry and rotation overlaps are checked on every request.
 * @module
 */
import type { Context } from "hono";
import { API_KEY_PATTERN, KEY_ID_PATTERN } from "#api/ids.js";
import { toHex } from "#api/signing.js";
import { ApiError } from "../api-error.js";
import { edgeConfig, type Env } from "../env.js";
import { clientAddress } from "../rate-limit/client-address.js";
import type { KeyCache } from "./key-cache.js";
import { keyIdOfToken, keyStoreOf } from "./key-shards.js";
import { judgeKey } from "./key-verdict.js";
import type { Principal } from "./principal.js";

/** The principal of the bootstrap admin key. */
export const BOOTSTRAP_ADMIN: Principal = { keyId: "admin", owner: "admin", admin: true, scopes: ["admin"] };

/** A key that works for this request: whom it makes the caller, and what a session keeps of it. */
export interface KeyIdentity {
  principal: Principal;
  /** Hex SHA-256 of the key. */
  keyHash: string;
  /** Epoch ms the key (or this secret of it) stops working; null when it does not. */
  expiresAt: number | null;
}

const encoder = new TextEncoder();
let adminKeyDigest: { key: string; digest: Promise<Uint8Array> } | null = null;

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** Constant-time equality of two SHA-256 digests. */
function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && crypto.subtle.timingSafeEqual(a, b);
}

function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

export const invalidKey = () => new ApiError("unauthorized", "invalid API key", undefined, { "WWW-Authenticate": 'Bearer error="invalid_token"' });

/** The identity of a presented key; throws 401 (unknown, revoked, expired) or 403 (outside its addresses). */
export async function identifyKey<E extends { Bindings: Env }>(c: Context<E>, presented: string, cache: KeyCache): Promise<KeyIdentity> {
  // Anything not shaped like one of our keys is refused without a lookup (unless it is the admin key).
  const keyId = API_KEY_PATTERN.test(presented) ? keyIdOfToken(presented) : null;
  return identifyDigest(c, keyId, await digest(presented), cache);
}

/** The identity of the key with id `keyId` (null: not a stored key) and SHA-256 `hash` (hex), as a session names it. */
export function identifyHash<E extends { Bindings: Env }>(c: Context<E>, keyId: string, hash: string, cache: KeyCache): Promise<KeyIdentity> {
  return identifyDigest(c, KEY_ID_PATTERN.test(keyId) ? keyId : null, fromHex(hash), cache);
}

async function identifyDigest<E extends { Bindings: Env }>(c: Context<E>, keyId: string | null, hash: Uint8Array, cache: KeyCache): Promise<KeyIdentity> {
  const { adminKey } = edgeConfig(c.env);
  if (adminKey) {
    if (adminKeyDigest?.key !== adminKey) adminKeyDigest = { key: adminKey, digest: digest(adminKey) };
    if (digestsEqual(hash, await adminKeyDigest.digest)) return { principal: BOOTSTRAP_ADMIN, keyHash: toHex(hash), expiresAt: null };
  }
  if (keyId === null) throw invalidKey();
  const hex = toHex(hash);
  let credential = cache.get(hex);
  if (!credential) {
    // Only the shard of the key id it names; a made-up key costs that one lookup.
    const found = await keyStoreOf(c.env, keyId).lookup(hex);
    if (!found) throw invalidKey();
    cache.set(hex, found);
    credential = found;
  }
  const verdict = judgeKey(credential, { now: Date.now(), clientIp: clientAddress(c) });
  if (!verdict.ok) {
    throw new ApiError(
      verdict.code,
      verdict.message,
      undefined,
      verdict.code === "unauthorized" ? { "WWW-Authenticate": 'Bearer error="invalid_token"' } : undefined,
    );
  }
  const ends = [credential.key.expiresAt, credential.secretExpiresAt].filter((at): at is number => at !== null);
  return { principal: verdict.principal, keyHash: hex, expiresAt: ends.length > 0 ? Math.min(...ends) : null };
}
