/**
 * Bearer authentication for the public API.
 *
 * Two kinds of key: the bootstrap admin key from `CODEFORGE_ADMIN_KEY` (compared as SHA-256
 * digests in constant time, so neither its length nor a prefix leaks through timing), and
 * keys made through `/api/v1/keys`, looked up in the key store by the SHA-256 of the secret.
 * Lookups are cached per isolate for at most `KEY_CACHE_TTL_MS`, so a revocation reaches
 * every isolate within seconds; expiry and rotation overlaps are checked on every request.
 * @module
 */
import { createMiddleware } from "hono/factory";
import { API_KEY_PATTERN } from "#api/ids.js";
import { sha256Hex } from "#api/signing.js";
import { ApiError } from "../api-error.js";
import { edgeConfig, type Env } from "../env.js";
import { keyCache, type KeyCache } from "../keys/key-cache.js";
import { keyIdOfToken, keyStoreOf } from "../keys/key-shards.js";
import { judgeKey } from "../keys/key-verdict.js";
import type { Principal } from "../keys/principal.js";
import { clientAddress } from "../rate-limit/client-address.js";

// Routes take the principal from here, with `AuthVariables`; it is defined beside the keys.
export type { Principal };

export type AuthVariables = { principal: Principal };

/** The principal of the bootstrap admin key. */
export const BOOTSTRAP_ADMIN: Principal = { keyId: "admin", owner: "admin", admin: true, scopes: ["admin"] };

const encoder = new TextEncoder();
let adminKeyDigest: { key: string; digest: Promise<Uint8Array> } | null = null;

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** Constant-time equality of two SHA-256 digests. */
function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && crypto.subtle.timingSafeEqual(a, b);
}

/** The key in `Authorization: Bearer <key>`, or null when the header is missing or not of that form. */
export function presentedKey(header: string | undefined): string | null {
  const match = header ? /^Bearer\s+([\x21-\x7e]{1,512})$/i.exec(header.trim()) : null;
  return match ? match[1]! : null;
}

const invalidKey = () => new ApiError("unauthorized", "invalid API key", undefined, { "WWW-Authenticate": 'Bearer error="invalid_token"' });

/**
 * Requires `Authorization: Bearer <key>` and sets `principal`.
 * @example app.use("/api/v1/*", apiKeyAuth())
 */
export function apiKeyAuth(options: { cache?: KeyCache } = {}) {
  const cache = options.cache ?? keyCache;
  return createMiddleware<{ Bindings: Env; Variables: AuthVariables }>(async (c, next) => {
    const presented = presentedKey(c.req.header("authorization"));
    if (presented === null) {
      throw new ApiError("unauthorized", "send your API key as 'Authorization: Bearer <key>'", undefined, {
        "WWW-Authenticate": 'Bearer realm="codeforge"',
      });
    }
    const { adminKey } = edgeConfig(c.env);
    if (adminKey) {
      if (adminKeyDigest?.key !== adminKey) adminKeyDigest = { key: adminKey, digest: digest(adminKey) };
      if (digestsEqual(await digest(presented), await adminKeyDigest.digest)) {
        c.set("principal", BOOTSTRAP_ADMIN);
        return next();
      }
    }
    // Anything not shaped like one of our keys is refused without a lookup.
    const keyId = keyIdOfToken(presented);
    if (!API_KEY_PATTERN.test(presented) || keyId === null) throw invalidKey();
    const hash = await sha256Hex(presented);
    let credential = cache.get(hash);
    if (!credential) {
      // Only the shard of the key id it names; a made-up key costs that one lookup.
      const found = await keyStoreOf(c.env, keyId).lookup(hash);
      if (!found) throw invalidKey();
      cache.set(hash, found);
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
    c.set("principal", verdict.principal);
    return next();
  });
}
