/**
 * Bearer authentication for the public API.
 *
 * For now one principal exists: the bootstrap admin key from `CODEFORGE_ADMIN_KEY`. Keys are
 * compared as SHA-256 digests with a constant-time comparison, so neither the key's length
 * nor its prefix leaks through timing.
 * @module
 */
import { createMiddleware } from "hono/factory";
import { ApiError } from "../api-error.js";
import { edgeConfig, type Env } from "../env.js";

/** Who is calling. `owner` scopes the tasks a principal sees. */
export interface Principal {
  keyId: string;
  owner: string;
  admin: boolean;
}

export type AuthVariables = { principal: Principal };

const encoder = new TextEncoder();
let adminKeyDigest: { key: string; digest: Promise<Uint8Array> } | null = null;

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** Constant-time equality of two SHA-256 digests. */
function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && crypto.subtle.timingSafeEqual(a, b);
}

/**
 * Requires `Authorization: Bearer <key>` and sets `principal`.
 * @example app.use("/api/v1/*", apiKeyAuth())
 */
export function apiKeyAuth() {
  return createMiddleware<{ Bindings: Env; Variables: AuthVariables }>(async (c, next) => {
    const header = c.req.header("authorization");
    const match = header ? /^Bearer\s+([\x21-\x7e]{1,512})$/i.exec(header.trim()) : null;
    if (!match) {
      throw new ApiError("unauthorized", "send your API key as 'Authorization: Bearer <key>'", undefined, {
        "WWW-Authenticate": 'Bearer realm="codeforge"',
      });
    }
    const { adminKey } = edgeConfig(c.env);
    if (adminKey) {
      if (adminKeyDigest?.key !== adminKey) adminKeyDigest = { key: adminKey, digest: digest(adminKey) };
      if (digestsEqual(await digest(match[1]!), await adminKeyDigest.digest)) {
        c.set("principal", { keyId: "admin", owner: "admin", admin: true });
        return next();
      }
    }
    throw new ApiError("unauthorized", "invalid API key", undefined, { "WWW-Authenticate": 'Bearer error="invalid_token"' });
  });
}
