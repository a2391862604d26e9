/**
 * Console sessions: an API key exchanged once for an `HttpOnly` cookie, so a browser page never
 * keeps the key itself. `POST /api/v1/session` takes the key and answers with the session;
 * `GET` reads it back (a reloaded page gets its CSRF token again); `DELETE` signs out.
 *
 * A request authenticated by the cookie carries the key's permissions. Any method but GET,
 * HEAD and OPTIONS must also send `X-CSRF-Token` with the session's `csrf_token`.
 * @module
 */
import { z } from "zod";
import { Scope } from "./keys.js";

/** The cookie that carries a session (sealed by the edge; opaque to clients). */
export const SESSION_COOKIE = "codeforge_session";

/** The header a cookie-authenticated state-changing request repeats the session's CSRF token in. */
export const CSRF_HEADER = "X-CSRF-Token";

/** `POST /api/v1/session` */
export const CreateSessionRequest = z.strictObject({
  /** An API key (`cf_<key id>_<secret>`) or the bootstrap admin key. Never stored, never echoed. */
  api_key: z.string().regex(/^[\x21-\x7e]{1,512}$/, "api_key must be 1 to 512 printable ASCII characters without spaces"),
});
export type CreateSessionRequest = z.infer<typeof CreateSessionRequest>;

/** A session, as sign-in and `GET /api/v1/session` answer it. Never the key. */
export const Session = z.object({
  /** The key the session acts as (`admin` for the bootstrap admin key). */
  key_id: z.string(),
  /** Whose tasks the session sees (the key id; `admin` for the bootstrap key). */
  owner: z.string(),
  /** The key holds the `admin` scope: it sees every task and manages keys. */
  admin: z.boolean(),
  scopes: z.array(Scope),
  /** Send as `X-CSRF-Token` with every cookie-authenticated POST, PUT, PATCH or DELETE. */
  csrf_token: z.string(),
  /** ISO 8601: the session ends then (or sooner, when its key is revoked or expires). */
  expires_at: z.string(),
});
export type Session = z.infer<typeof Session>;
