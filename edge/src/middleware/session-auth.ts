/**
 * Authentication by the console's session cookie (`keys/session-cookie.ts`), for requests that
 * carry no `Authorization` header: `apiKeyAuth` hands them here.
 *
 * In order, before anything else of the request happens:
 * 1. the cookie must open and be unexpired, else 401 (and the cookie is cleared);
 * 2. the browser must say the request comes from the edge's own origin when it says where the
 *    request comes from (`Sec-Fetch-Site`), else 403: a sibling subdomain is "same-site", so
 *    `SameSite=Strict` alone would let its pages open a WebSocket with the cookie;
 * 3. any method but GET, HEAD and OPTIONS must carry the session's CSRF token in
 *    `X-CSRF-Token`, else 403;
 * 4. the key the session names must still work (not revoked, expired or rotated out, used from
 *    an allowed address), checked as for a bearer key, else 401 (cookie cleared) or 403.
 * @module
 */
import type { Context } from "hono";
import { CSRF_HEADER } from "#api/session.js";
import { ApiError } from "../api-error.js";
import { edgeConfig, type Env } from "../env.js";
import type { KeyCache } from "../keys/key-cache.js";
import { identifyHash } from "../keys/key-identity.js";
import type { Principal } from "../keys/principal.js";
import { clearedSessionCookie, csrfTokenMatches, openSession, type SessionClaims } from "../keys/session-cookie.js";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Whether the request reached the edge over https (the session cookie is then `Secure`). */
export function overHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === "https:";
}

/** A 401 that also drops the dead cookie from the browser. */
function signInAgain(c: Context, message: string): ApiError {
  return new ApiError("unauthorized", `${message}; sign in again`, undefined, { "Set-Cookie": clearedSessionCookie(overHttps(c)) });
}

/** The principal and session of a request authenticated by the sealed cookie value `sealed`. */
export async function sessionPrincipal<E extends { Bindings: Env }>(
  c: Context<E>,
  sealed: string,
  cache: KeyCache,
): Promise<{ principal: Principal; session: SessionClaims }> {
  const { sessionSecret } = edgeConfig(c.env);
  const opened = sessionSecret === null ? ({ ok: false, reason: "invalid" } as const) : await openSession(sessionSecret, sealed, Date.now());
  if (!opened.ok) throw signInAgain(c, opened.reason === "expired" ? "the session has expired" : "the session cookie is not valid");
  const site = c.req.header("sec-fetch-site");
  if (site !== undefined && site !== "same-origin" && site !== "none") {
    throw new ApiError(
      "forbidden",
      "the session cookie is accepted only on requests from the edge's own origin; other origins send 'Authorization: Bearer <key>'",
    );
  }
  if (!SAFE_METHODS.has(c.req.method) && !csrfTokenMatches(c.req.header(CSRF_HEADER), opened.session.csrfToken)) {
    throw new ApiError(
      "forbidden",
      `CSRF check failed: a ${c.req.method} request signed in with the session cookie must send the session's csrf_token as ${CSRF_HEADER}`,
    );
  }
  try {
    const identity = await identifyHash(c, opened.session.keyId, opened.session.keyHash, cache);
    return { principal: identity.principal, session: opened.session };
  } catch (err) {
    if (err instanceof ApiError && err.code === "unauthorized") throw signInAgain(c, `the session's API key no longer works (${err.message})`);
    throw err;
  }
}
