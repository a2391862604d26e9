/**
 * Authentication for the public API: `Authorization: Bearer <key>`, or, on a request without
 * that header, the console's session cookie (`session-auth.ts`). A request with both is judged
 * by its `Authorization` header alone.
 *
 * How a key is checked (the bootstrap admin key in constant time, stored keys through the
 * per-isolate cache, expiry and rotation on every request) is in `keys/key-identity.ts`.
 * @module
 */
import { createMiddleware } from "hono/factory";
import { ApiError } from "../api-error.js";
import type { Env } from "../env.js";
import { keyCache, type KeyCache } from "../keys/key-cache.js";
import { BOOTSTRAP_ADMIN, identifyKey } from "../keys/key-identity.js";
import type { Principal } from "../keys/principal.js";
import { type SessionClaims, sessionCookieOf } from "../keys/session-cookie.js";
import { sessionPrincipal } from "./session-auth.js";

// Routes take the principal from here, with `AuthVariables`; it is defined beside the keys.
export type { Principal };
export { BOOTSTRAP_ADMIN };

/** `session` is the console session the request came with; null for a bearer key. */
export type AuthVariables = { principal: Principal; session: SessionClaims | null };

/** The key in `Authorization: Bearer <key>`, or null when the header is missing or not of that form. */
export function presentedKey(header: string | undefined): string | null {
  const match = header ? /^Bearer\s+([\x21-\x7e]{1,512})$/i.exec(header.trim()) : null;
  return match ? match[1]! : null;
}

/**
 * Requires a bearer key or a session cookie and sets `principal` (and `session`).
 * @example app.use("/api/v1/*", apiKeyAuth())
 */
export function apiKeyAuth(options: { cache?: KeyCache } = {}) {
  const cache = options.cache ?? keyCache;
  return createMiddleware<{ Bindings: Env; Variables: AuthVariables }>(async (c, next) => {
    const authorization = c.req.header("authorization");
    const sealed = authorization === undefined ? sessionCookieOf(c.req.header("cookie")) : null;
    if (sealed !== null) {
      const { principal, session } = await sessionPrincipal(c, sealed, cache);
      c.set("principal", principal);
      c.set("session", session);
      return next();
    }
    const presented = presentedKey(authorization);
    if (presented === null) {
      throw new ApiError("unauthorized", "send your API key as 'Authorization: Bearer <key>' (or sign in to the console: POST /api/v1/session)", undefined, {
        "WWW-Authenticate": 'Bearer realm="codeforge"',
      });
    }
    c.set("principal", (await identifyKey(c, presented, cache)).principal);
    c.set("session", null);
    return next();
  });
}
