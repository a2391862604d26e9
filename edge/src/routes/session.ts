/**
 * Console sign-in (`session.routes.ts`): `POST /api/v1/session` checks a key and seals a session
 * cookie (`keys/session-cookie.ts`); `GET` reads the session back; `DELETE` clears the cookie.
 *
 * Sign-in is served ahead of the app's authentication (it takes the key in its body), behind
 * its own auth-failure guard whose credential is that key: a bad key there counts exactly as a
 * bad bearer key does. The key is never stored, logged or echoed. `GET` and `DELETE` are
 * behind the app's authentication like every other route: `DELETE` with the cookie needs the
 * CSRF token, as every cookie-authenticated state change does.
 * @module
 */
import type { Context } from "hono";
import { CreateSessionRequest, type Session } from "#api/session.js";
import { ApiError } from "../api-error.js";
import { recordAudit } from "../audit/audit-record.js";
import { edgeConfig, type Env } from "../env.js";
import { bodyOf, jsonBody } from "../http/json-body.js";
import { openApiRoutes } from "../http/openapi-app.js";
import { waitUntilOf } from "../http/wait-until.js";
import { keyCache } from "../keys/key-cache.js";
import { identifyKey } from "../keys/key-identity.js";
import type { Principal } from "../keys/principal.js";
import { clearedSessionCookie, newCsrfToken, sealSession, sessionCookie, type SessionClaims } from "../keys/session-cookie.js";
import type { AuthVariables } from "../middleware/api-key-auth.js";
import { authFailureGuard } from "../middleware/auth-failure-guard.js";
import { overHttps } from "../middleware/session-auth.js";
import { clientAddress } from "../rate-limit/client-address.js";
import { methodNotAllowed } from "./method-not-allowed.js";
import { createSession, deleteSession, getSession } from "./session.routes.js";

type SessionEnv = { Bindings: Env; Variables: AuthVariables & { requestId: string } };

const NO_STORE = { "Cache-Control": "no-store" };

function sessionBody(principal: Principal, session: SessionClaims): Session {
  return {
    key_id: principal.keyId,
    owner: principal.owner,
    admin: principal.admin,
    scopes: [...principal.scopes],
    csrf_token: session.csrfToken,
    expires_at: new Date(session.expiresAt).toISOString(),
  };
}

/** Sign-in: mounted before the app's authentication (see `app.ts`). */
export const signInRoutes = openApiRoutes<SessionEnv>().openapi(
  {
    ...createSession,
    middleware: [
      jsonBody(CreateSessionRequest),
      authFailureGuard({ credential: (c) => ({ kind: "key", value: bodyOf(c, CreateSessionRequest).api_key }) }),
    ] as const,
  },
  async (c) => {
    const { sessionSecret, sessionTtlSeconds } = edgeConfig(c.env);
    if (sessionSecret === null) {
      throw new ApiError("unavailable", "sign-in is not available: the edge has neither SESSION_SECRET nor TASK_SECRETS_KEY to seal sessions with");
    }
    const identity = await identifyKey(c, bodyOf(c, CreateSessionRequest).api_key, keyCache);
    const now = Date.now();
    // The session ends with its key, when the key ends first: the console knows when to ask again.
    const expiresAt = Math.min(now + sessionTtlSeconds * 1_000, identity.expiresAt ?? Number.POSITIVE_INFINITY);
    const session: SessionClaims = { keyId: identity.principal.keyId, keyHash: identity.keyHash, csrfToken: newCsrfToken(), expiresAt };
    const sealed = await sealSession(sessionSecret, session);
    recordAudit(c.env, waitUntilOf(c) ?? (() => {}), {
      actor: identity.principal.keyId,
      clientIp: clientAddress(c),
      requestId: c.get("requestId") ?? "unknown",
      action: "session.create",
      target: identity.principal.keyId,
      outcome: "success",
    });
    const maxAge = Math.max(1, Math.ceil((expiresAt - now) / 1_000));
    return c.json(sessionBody(identity.principal, session), 201, { ...NO_STORE, "Set-Cookie": sessionCookie(sealed, maxAge, overHttps(c)) });
  },
);

const noSession = (c: Context) =>
  new ApiError("unauthorized", "this request has no console session (sign in with POST /api/v1/session); bearer keys need none", undefined, {
    "Set-Cookie": clearedSessionCookie(overHttps(c)),
  });

/** Reading and ending a session: behind the app's authentication. */
export const sessionRoutes = openApiRoutes<SessionEnv>()
  .openapi(getSession, async (c) => {
    const session = c.get("session");
    if (!session) throw noSession(c);
    return c.json(sessionBody(c.get("principal"), session), 200, NO_STORE);
  })
  .openapi(deleteSession, async (c) => {
    // A bearer request may clear a cookie too; with the cookie, the CSRF check has already passed.
    c.header("Set-Cookie", clearedSessionCookie(overHttps(c)));
    return c.body(null, 204);
  })
  .all("/api/v1/session", methodNotAllowed("GET, POST, DELETE"));
