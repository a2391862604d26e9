/**
 * The console's session cookie: what it holds, sealed and opened, and the `Set-Cookie` lines.
 *
 * A session is stateless: the cookie itself holds the key's id and SHA-256 (never the key), the
 * session's CSRF token and its expiry, sealed with AES-256-GCM (`task/secret-box.ts`) under a
 * key derived from `SESSION_SECRET` (or, when that is unset, from `TASK_SECRETS_KEY`, with its
 * own HKDF salt, so the two uses never share an AES key). A cookie changed by one bit, sealed
 * under another secret, or past its expiry does not open. The key it names is checked again on
 * every request, so revoking (or expiring, or rotating out) the key ends its sessions.
 * @module
 */
import { z } from "zod";
import { SESSION_COOKIE } from "#api/session.js";
import { secretBox } from "../task/secret-box.js";

/** The HKDF salt of session cookies (task secrets use their own). */
const SESSION_PURPOSE = "codeforge session cookies";
/** Additional data of every sealed session: a value sealed for anything else does not open as one. */
const SESSION_CONTEXT = "codeforge_session v1";
/** Longer cookie values are not ours; they are refused unread. */
const COOKIE_VALUE_MAX = 1_024;

export interface SessionClaims {
  /** The key's id; `admin` for the bootstrap admin key. */
  keyId: string;
  /** Hex SHA-256 of the key, as the key store looks it up. */
  keyHash: string;
  /** What `X-CSRF-Token` must carry on a state-changing request. */
  csrfToken: string;
  /** Epoch ms: the session ends then. */
  expiresAt: number;
}

const Sealed = z.strictObject({
  kid: z.string().max(64),
  h: z.string().regex(/^[0-9a-f]{64}$/),
  csrf: z.string().max(128),
  exp: z.number().int(),
});

export type OpenedSession = { ok: true; session: SessionClaims } | { ok: false; reason: "invalid" | "expired" };

/** Seals `claims` into a cookie value. */
export async function sealSession(secret: string, claims: SessionClaims): Promise<string> {
  const box = await secretBox(secret, SESSION_PURPOSE);
  const payload: z.infer<typeof Sealed> = { kid: claims.keyId, h: claims.keyHash, csrf: claims.csrfToken, exp: claims.expiresAt };
  return box.seal(JSON.stringify(payload), SESSION_CONTEXT);
}

/** Opens a cookie value `sealSession` made; anything else, or a session past its expiry at `now`, is refused. */
export async function openSession(secret: string, sealed: string, now: number): Promise<OpenedSession> {
  if (sealed.length > COOKIE_VALUE_MAX) return { ok: false, reason: "invalid" };
  let payload: z.infer<typeof Sealed>;
  try {
    const box = await secretBox(secret, SESSION_PURPOSE);
    payload = Sealed.parse(JSON.parse(await box.open(sealed, SESSION_CONTEXT)));
  } catch {
    return { ok: false, reason: "invalid" };
  }
  if (now >= payload.exp) return { ok: false, reason: "expired" };
  return { ok: true, session: { keyId: payload.kid, keyHash: payload.h, csrfToken: payload.csrf, expiresAt: payload.exp } };
}

/** A fresh CSRF token: 32 random bytes, base64url. */
export function newCsrfToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

const encoder = new TextEncoder();

/** Whether `sent` is the session's CSRF token, compared in constant time. */
export function csrfTokenMatches(sent: string | undefined, expected: string): boolean {
  if (sent === undefined) return false;
  const a = encoder.encode(sent);
  const b = encoder.encode(expected);
  return a.byteLength === b.byteLength && crypto.subtle.timingSafeEqual(a, b);
}

/** The session cookie's value in a `Cookie` header, or null when it has none. */
export function sessionCookieOf(cookieHeader: string | undefined): string | null {
  if (!cookieHeader) return null;
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return null;
}

const attributes = (secure: boolean) => `Path=/; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;

/** `Set-Cookie` for a new session; `Secure` when the request came over https. */
export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Max-Age=${maxAgeSeconds}; ${attributes(secure)}`;
}

/** `Set-Cookie` that makes the browser drop the session cookie. */
export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Max-Age=0; ${attributes(secure)}`;
}
