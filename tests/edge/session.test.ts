/**
 * Integration: console sessions through the real Worker — sign in with a key or the admin key,
 * the cookie's attributes, cookie-authenticated reads, CSRF on state changes, Authorization
 * winning over the cookie, a session ending with its key, its TTL, a tampered cookie, and sign-out.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { AuditPage } from "#api/audit.js";
import { Task } from "#api/task.js";
import { TaskList } from "#api/task-queries.js";
import { ORIGIN, apiFetch, expectError, taskSpec, uniquePool } from "./api-client.js";
import { advanceClock } from "./clock.js";
import { TEST_ADMIN_KEY } from "./credentials.js";
import { createKey, createTaskAs } from "./key-client.js";
import { cookieAttributes, cookieFetch, postSession, signIn } from "./session-client.js";

const EIGHT_HOURS = 28_800;

async function tasksOf(cookie: string): Promise<TaskList> {
  const res = await cookieFetch("/api/v1/tasks", { cookie });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return TaskList.parse(JSON.parse(text));
}

describe("sign-in", () => {
  it("exchanges a key for a sealed HttpOnly, SameSite=Strict, Secure cookie that carries its permissions", async () => {
    const key = await createKey({ scopes: ["tasks:read", "tasks:write"] });
    const { session, setCookie, res } = await signIn(key.key);
    expect(session).toEqual({
      key_id: key.id,
      owner: key.id,
      admin: false,
      scopes: ["tasks:read", "tasks:write"],
      csrf_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      expires_at: expect.any(String),
    });
    const ttl = Date.parse(session.expires_at) - Date.now();
    expect(ttl).toBeGreaterThan((EIGHT_HOURS - 60) * 1_000);
    expect(ttl).toBeLessThanOrEqual(EIGHT_HOURS * 1_000);
    expect(res.headers.get("cache-control")).toBe("no-store");

    const { value, attributes } = cookieAttributes(setCookie);
    expect(attributes.has("httponly")).toBe(true);
    expect(attributes.get("samesite")).toBe("Strict");
    expect(attributes.get("path")).toBe("/");
    expect(attributes.get("max-age")).toBe(String(EIGHT_HOURS));
    expect(attributes.has("secure")).toBe(true);
    // Sealed: neither the key, its secret part, nor the CSRF token is readable in it.
    expect(value).not.toContain(key.key);
    expect(value).not.toContain(key.key.split("_").at(-1)!);
    expect(value).not.toContain(session.csrf_token);
    expect(value).not.toContain(key.id);
  });

  it("leaves Secure off over plain http", async () => {
    const key = await createKey();
    const { setCookie } = await signIn(key.key, "http://codeforge.test");
    const { attributes } = cookieAttributes(setCookie);
    expect(attributes.has("secure")).toBe(false);
    expect(attributes.has("httponly")).toBe(true);
  });

  it("signs in with the bootstrap admin key, whose session is the admin", async () => {
    const { session, cookie } = await signIn(TEST_ADMIN_KEY);
    expect(session).toMatchObject({ key_id: "admin", owner: "admin", admin: true, scopes: ["admin"] });
    const keys = await cookieFetch("/api/v1/keys", { cookie });
    expect(keys.status).toBe(200);
    expect(JSON.stringify(await keys.json())).not.toContain(TEST_ADMIN_KEY);
  });

  it("refuses a bad key (401), an empty or malformed body (400), and never echoes the key", async () => {
    for (const bad of ["cf_key_0000000000000000_not-a-real-secret", "wrong-admin-key-0123456789", `${TEST_ADMIN_KEY}x`]) {
      const res = await postSession(bad);
      const text = await res.clone().text();
      expect(text).not.toContain(bad);
      await expectError(res, 401, "unauthorized");
      expect(res.headers.get("set-cookie")).toBeNull();
    }
    await expectError(await postSession("has a space"), 400, "validation_failed", "api_key");
    await expectError(await postSession(12), 400, "validation_failed", "api_key");
    const empty = await SELF.fetch(`${ORIGIN}/api/v1/session`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    await expectError(empty, 400, "validation_failed", "api_key");
  });

  it("refuses a revoked key, and ends with the key when the key expires first", async () => {
    const revoked = await createKey();
    expect((await apiFetch(`/api/v1/keys/${revoked.id}/revoke`, { method: "POST" })).status).toBe(200);
    await expectError(await postSession(revoked.key), 401, "unauthorized");

    const expiresAt = new Date(Date.now() + 3_600_000);
    const shortLived = await createKey({ expires_at: expiresAt.toISOString() });
    const { session, setCookie } = await signIn(shortLived.key);
    expect(Date.parse(session.expires_at)).toBe(expiresAt.getTime());
    expect(Number(cookieAttributes(setCookie).attributes.get("max-age"))).toBeLessThanOrEqual(3_600);
  });
});

describe("a signed-in browser", () => {
  it("reads its session back and lists its own tasks with the cookie alone", async () => {
    const key = await createKey();
    const { session, cookie } = await signIn(key.key);
    const again = await cookieFetch("/api/v1/session", { cookie });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(session);

    const task = await createTaskAs(key.key, { pool: uniquePool() });
    const list = await tasksOf(cookie);
    expect(list.tasks.map((t) => t.id)).toEqual([task.id]);
    expect((await cookieFetch(`/api/v1/tasks/${task.id}`, { cookie })).status).toBe(200);
  });

  it("must send the CSRF token with a state change: without or with a wrong one it is 403 and nothing happens", async () => {
    const key = await createKey();
    const { session, cookie } = await signIn(key.key);
    const json = taskSpec({ pool: uniquePool() });
    for (const csrf of [undefined, "", "not-the-token", session.csrf_token.slice(1)]) {
      const body = await expectError(await cookieFetch("/api/v1/tasks", { cookie, csrf, json }), 403, "forbidden");
      expect(body.error.message).toMatch(/CSRF/);
    }
    // A token of another session is wrong too.
    const other = await signIn(key.key);
    await expectError(await cookieFetch("/api/v1/tasks", { cookie, csrf: other.session.csrf_token, json }), 403, "forbidden");
    expect((await tasksOf(cookie)).tasks).toEqual([]);

    const created = await cookieFetch("/api/v1/tasks", { cookie, csrf: session.csrf_token, json });
    const text = await created.text();
    expect(created.status, text).toBe(201);
    const task = Task.parse(JSON.parse(text));
    expect((await tasksOf(cookie)).tasks.map((t) => t.id)).toEqual([task.id]);

    // Only the request that passed the check reached the route, so only it is audited.
    const entries = await auditedBesidesSignIn(key.id);
    expect(entries.map((e) => [e.action, e.outcome])).toEqual([["task.create", "success"]]);
  });

  it("uses Authorization when a request has both, and a bearer request needs no CSRF token", async () => {
    const cookieKey = await createKey();
    const bearerKey = await createKey();
    const { cookie } = await signIn(cookieKey.key);
    const res = await cookieFetch("/api/v1/tasks", { cookie, json: taskSpec({ pool: uniquePool() }), headers: { authorization: `Bearer ${bearerKey.key}` } });
    expect(res.status).toBe(201);
    expect((await tasksOf(cookie)).tasks).toEqual([]);
    // A bad Authorization is not rescued by a good cookie.
    await expectError(await cookieFetch("/api/v1/tasks", { cookie, headers: { authorization: "Bearer wrong-key-0123456789" } }), 401, "unauthorized");
    // With a bearer key there is no session to read.
    await expectError(await apiFetch("/api/v1/session", { key: bearerKey.key }), 401, "unauthorized");
  });

  it("opens a task's stream with the cookie (a GET: no CSRF token)", async () => {
    const key = await createKey();
    const { cookie } = await signIn(key.key);
    const task = await createTaskAs(key.key, { pool: uniquePool() });
    const res = await cookieFetch(`/api/v1/tasks/${task.id}/stream`, { cookie, headers: { upgrade: "websocket", "sec-fetch-site": "same-origin" } });
    expect(res.status).toBe(101);
    res.webSocket?.accept();
    res.webSocket?.close();
  });

  it("follows a task's events over SSE with the cookie", async () => {
    const key = await createKey();
    const { cookie } = await signIn(key.key);
    const task = await createTaskAs(key.key, { pool: uniquePool() });
    const res = await cookieFetch(`/api/v1/tasks/${task.id}/stream`, { cookie, headers: { accept: "text/event-stream", "sec-fetch-site": "same-origin" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toMatch(/^id: 1$/m);
    await reader.cancel();
  });

  it("refuses the cookie on a request the browser says comes from another origin", async () => {
    const key = await createKey();
    const { cookie } = await signIn(key.key);
    for (const site of ["cross-site", "same-site"]) {
      await expectError(await cookieFetch("/api/v1/tasks", { cookie, headers: { "sec-fetch-site": site } }), 403, "forbidden");
    }
    expect((await cookieFetch("/api/v1/tasks", { cookie, headers: { "sec-fetch-site": "same-origin" } })).status).toBe(200);
  });
});

describe("the end of a session", () => {
  it("stops working when its key is revoked (401), and the answer clears the cookie", async () => {
    const key = await createKey();
    const { cookie } = await signIn(key.key);
    expect((await cookieFetch("/api/v1/tasks", { cookie })).status).toBe(200);
    expect((await apiFetch(`/api/v1/keys/${key.id}/revoke`, { method: "POST" })).status).toBe(200);
    const res = await cookieFetch("/api/v1/tasks", { cookie });
    expect(cookieAttributes(res.headers.get("set-cookie") ?? "").attributes.get("max-age")).toBe("0");
    expect((await expectError(res, 401, "unauthorized")).error.message).toMatch(/revoked/);
  });

  it("expires after SESSION_TTL_SECONDS", async () => {
    const key = await createKey();
    const { cookie } = await signIn(key.key);
    advanceClock((EIGHT_HOURS - 1) * 1_000);
    expect((await cookieFetch("/api/v1/session", { cookie })).status).toBe(200);
    advanceClock(1_000);
    const body = await expectError(await cookieFetch("/api/v1/session", { cookie }), 401, "unauthorized");
    expect(body.error.message).toMatch(/expired/);
  });

  it("refuses a tampered or made-up cookie", async () => {
    const key = await createKey();
    const { cookie } = await signIn(key.key);
    const value = cookie.slice("codeforge_session=".length);
    const flipped = (i: number) => value.slice(0, i) + (value[i] === "A" ? "B" : "A") + value.slice(i + 1);
    // Whole base64 groups only: a last character can differ in padding bits alone.
    for (const bad of [flipped(5), flipped(Math.floor(value.length / 2)), flipped(value.length - 8), value.slice(0, -4), "v1.AAAA", "garbage", ""]) {
      const res = await cookieFetch("/api/v1/tasks", { cookie: `codeforge_session=${bad}` });
      await expectError(res, 401, "unauthorized");
    }
  });

  it("signs out: DELETE with the CSRF token clears the cookie (without the token: 403)", async () => {
    const key = await createKey();
    const { session, cookie } = await signIn(key.key);
    await expectError(await cookieFetch("/api/v1/session", { cookie, method: "DELETE" }), 403, "forbidden");
    const res = await cookieFetch("/api/v1/session", { cookie, method: "DELETE", csrf: session.csrf_token });
    expect(res.status).toBe(204);
    const { value, attributes } = cookieAttributes(res.headers.get("set-cookie") ?? "");
    expect(value).toBe("");
    expect(attributes.get("max-age")).toBe("0");
    expect(attributes.has("httponly")).toBe(true);
  });
});

/** The audit entries of `actor` other than its sign-ins, once its sign-ins and one more have been written. */
function auditedBesidesSignIn(actor: string) {
  return vi.waitFor(
    async () => {
      const res = await apiFetch(`/api/v1/audit?actor=${actor}&limit=50`);
      const page = AuditPage.parse(await res.json());
      const entries = page.entries.filter((e) => e.action !== "session.create");
      if (entries.length < 1 || page.entries.length - entries.length < 2) throw new Error("audit entries not written yet");
      return entries;
    },
    { timeout: 5_000, interval: 20 },
  );
}
