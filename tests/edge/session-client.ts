/**
 * A browser's side of console sessions, through the real Worker: sign in with a key, then send
 * requests carrying the session cookie (and, when given, the CSRF token) instead of a key.
 * @module
 */
import { SELF } from "cloudflare:test";
import { expect } from "vitest";
import { Session } from "#api/session.js";
import { ORIGIN } from "./api-client.js";

export interface SignedIn {
  session: Session;
  /** `codeforge_session=<value>`, as the browser sends it back. */
  cookie: string;
  /** The `Set-Cookie` line of the sign-in answer. */
  setCookie: string;
  res: Response;
}

/** `POST /api/v1/session` with `apiKey`; the raw answer. */
export function postSession(apiKey: unknown, origin = ORIGIN, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch(`${origin}/api/v1/session`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ api_key: apiKey }),
  });
}

/** Signs in with `apiKey`; fails unless 201 with a cookie. */
export async function signIn(apiKey: string, origin = ORIGIN): Promise<SignedIn> {
  const res = await postSession(apiKey, origin);
  const text = await res.text();
  expect(res.status, text).toBe(201);
  const setCookie = res.headers.get("set-cookie") ?? "";
  const cookie = setCookie.split(";")[0]!;
  expect(cookie).toMatch(/^codeforge_session=.+/);
  return { session: Session.parse(JSON.parse(text)), cookie, setCookie, res };
}

/** A request with the session cookie (no `Authorization` unless given in `headers`). */
export function cookieFetch(
  path: string,
  init: { cookie: string; csrf?: string; method?: string; json?: unknown; headers?: Record<string, string>; origin?: string },
): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("cookie", init.cookie);
  if (init.csrf !== undefined) headers.set("x-csrf-token", init.csrf);
  let body: string | undefined;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers.set("content-type", "application/json");
  }
  return SELF.fetch(`${init.origin ?? ORIGIN}${path}`, { method: init.method ?? (body === undefined ? "GET" : "POST"), headers, body });
}

/** The attributes of a `Set-Cookie` line, lower-cased names; `value` is the cookie's own value. */
export function cookieAttributes(setCookie: string): { value: string; attributes: Map<string, string> } {
  const [pair, ...rest] = setCookie.split(";").map((part) => part.trim());
  const attributes = new Map(
    rest.map((part) => {
      const eq = part.indexOf("=");
      return eq < 0 ? [part.toLowerCase(), ""] : [part.slice(0, eq).toLowerCase(), part.slice(eq + 1)];
    }),
  );
  return { value: pair!.slice(pair!.indexOf("=") + 1), attributes };
}
