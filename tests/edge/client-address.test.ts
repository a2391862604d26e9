/**
 * Integration: where a request comes from, by `CLIENT_ADDRESS_HEADER` — the real app
 * (`createApp()`) in workerd with the setting varied per bindings object: `CF-Connecting-IP`
 * (as on Cloudflare, this project's default), `none` (as under `npm start`), and a proxy's
 * `X-Forwarded-For`. Without a trustworthy address, a forged header opens no allowlist, moving
 * between forged addresses does not shake off a lockout, and nobody's failures lock out anyone
 * else's key — the admin's included.
 */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AuditPage } from "#api/audit.js";
import { createApp } from "../../edge/src/app.js";
import { edgeConfig, type Env } from "../../edge/src/env.js";
import { apiFetch, expectError, ORIGIN, taskSpec, uniquePool } from "./api-client.js";
import { TEST_ADMIN_KEY } from "./credentials.js";
import { advanceClock } from "./clock.js";
import { createKey, createTaskAs } from "./key-client.js";

const UNKNOWN_TASK = "tsk_0000000000aaaaaaaaaaaaaaaa";

type Call = (path: string, init?: { key?: string | null; headers?: Record<string, string>; json?: unknown }) => Promise<Response>;

/** The app with its own bindings (a fresh object: its configuration is parsed anew). */
function appWith(vars: Partial<Record<keyof Env, string>>): Call {
  const app = createApp();
  const bindings = { ...env, ...vars } as Env;
  return async (path, init = {}) => {
    const headers = new Headers(init.headers);
    const key = init.key === undefined ? TEST_ADMIN_KEY : init.key;
    if (key !== null) headers.set("authorization", `Bearer ${key}`);
    if (init.json !== undefined) headers.set("content-type", "application/json");
    const body = init.json === undefined ? undefined : JSON.stringify(init.json);
    return app.request(`${ORIGIN}${path}`, { method: body === undefined ? "GET" : "POST", headers, body }, bindings);
  };
}

const octet = () => Math.floor(Math.random() * 250) + 1;
const randomIp = () => `10.${octet()}.${octet()}.${octet()}`;
const badKey = () => `wrong-key-${crypto.randomUUID()}`;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the setting", () => {
  it("reads a header name or none; unset is none; anything else is refused by name", () => {
    const header = (value: string | undefined) => edgeConfig({ ...env, CLIENT_ADDRESS_HEADER: value } as Env).clientAddressHeader;
    expect(header("CF-Connecting-IP")).toBe("cf-connecting-ip");
    expect(header("X-Forwarded-For")).toBe("x-forwarded-for");
    expect(header("none")).toBeNull();
    expect(header("NONE")).toBeNull();
    expect(header(undefined)).toBeNull();
    expect(header("")).toBeNull();
    expect(() => header("X Real IP")).toThrow(/CLIENT_ADDRESS_HEADER/);
  });
});

describe("an API key limited to allowed_cidrs", () => {
  it("is used from its range when the header is trustworthy, and refused everywhere when none is (a forged CF-Connecting-IP opens nothing)", async () => {
    const key = await createKey({ allowed_cidrs: ["203.0.113.0/24"] });
    const forged = { "cf-connecting-ip": "203.0.113.7" };
    expect((await appWith({})(`/api/v1/tasks/${UNKNOWN_TASK}`, { key: key.key, headers: forged })).status).toBe(404);

    const none = appWith({ CLIENT_ADDRESS_HEADER: "none" });
    const refused = await expectError(await none(`/api/v1/tasks/${UNKNOWN_TASK}`, { key: key.key, headers: forged }), 403, "forbidden");
    expect(refused.error.message).toMatch(/no trustworthy client address/);
    expect(refused.error.message).toContain("CLIENT_ADDRESS_HEADER");
    // A key without an allowlist is not affected.
    const open = await createKey();
    expect((await none(`/api/v1/tasks/${UNKNOWN_TASK}`, { key: open.key, headers: forged })).status).toBe(404);
  });

  it("behind a proxy's X-Forwarded-For, only the rightmost entry (the one the proxy added) counts", async () => {
    const key = await createKey({ allowed_cidrs: ["203.0.113.0/24"] });
    const proxied = appWith({ CLIENT_ADDRESS_HEADER: "X-Forwarded-For" });
    const status = async (headers: Record<string, string>) => (await proxied(`/api/v1/tasks/${UNKNOWN_TASK}`, { key: key.key, headers })).status;
    expect(await status({ "x-forwarded-for": "203.0.113.7" })).toBe(404);
    expect(await status({ "x-forwarded-for": "198.51.100.1, 203.0.113.7" })).toBe(404);
    // The client wrote the left part; the proxy saw it come from 198.51.100.1.
    expect(await status({ "x-forwarded-for": "203.0.113.7, 198.51.100.1" })).toBe(403);
    // CF-Connecting-IP is just another client header here.
    expect(await status({ "cf-connecting-ip": "203.0.113.7" })).toBe(403);
    // A port, brackets or a name is no address.
    expect(await status({ "x-forwarded-for": "203.0.113.7:443" })).toBe(403);
    expect(await status({ "x-forwarded-for": "[2001:db8::1]" })).toBe(403);
  });
});

describe("the auth-failure lockout without a trustworthy address", () => {
  const limits = { CLIENT_ADDRESS_HEADER: "none", RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: "3", RATE_LIMIT_AUTH_FAILURES_BEFORE_BLOCK: "6" };

  it("throttles and then blocks a repeated bad key however many addresses it is sent from", async () => {
    advanceClock(0);
    const call = appWith(limits);
    const key = badKey();
    const from = () => ({ "cf-connecting-ip": randomIp() });
    for (let i = 0; i < 3; i++) await expectError(await call(`/api/v1/tasks/${UNKNOWN_TASK}`, { key, headers: from() }), 401, "unauthorized");
    const throttled = await expectError(await call(`/api/v1/tasks/${UNKNOWN_TASK}`, { key, headers: from() }), 429, "rate_limited");
    expect(throttled.error.message).toContain("this API key");

    advanceClock(61_000);
    for (let i = 0; i < 3; i++) await expectError(await call(`/api/v1/tasks/${UNKNOWN_TASK}`, { key, headers: from() }), 401, "unauthorized");
    advanceClock(61_000);
    const blocked = await call(`/api/v1/tasks/${UNKNOWN_TASK}`, { key, headers: from() });
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(3_000);
    expect((await expectError(blocked, 429, "rate_limited")).error.message).toContain("blocked");
    // The admin, and any good key, from any address, are untouched.
    expect((await call(`/api/v1/tasks/${UNKNOWN_TASK}`, { headers: from() })).status).toBe(404);
  });

  it("lets no one lock out the admin: 60 failures with bad keys, a repeated one and none at all", async () => {
    // The production thresholds: 10 a minute, 50 in the window block.
    const call = appWith({ CLIENT_ADDRESS_HEADER: "none", RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: "10", RATE_LIMIT_AUTH_FAILURES_BEFORE_BLOCK: "50" });
    const repeated = badKey();
    const statuses = { fresh: [] as number[], repeated: [] as number[], keyless: [] as number[] };
    for (let i = 0; i < 60; i++) {
      statuses.fresh.push((await call(`/api/v1/tasks/${UNKNOWN_TASK}`, { key: badKey(), headers: { "cf-connecting-ip": randomIp() } })).status);
      statuses.repeated.push((await call(`/api/v1/tasks/${UNKNOWN_TASK}`, { key: repeated })).status);
      statuses.keyless.push((await call(`/api/v1/tasks/${UNKNOWN_TASK}`, { key: null })).status);
    }
    // Each fresh key failed once (there is nothing to count them against); the repeated one and
    // the keyless requests were throttled after 10.
    expect(statuses.fresh.every((s) => s === 401)).toBe(true);
    expect(statuses.repeated.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.repeated.slice(10).every((s) => s === 429)).toBe(true);
    expect(statuses.keyless.slice(10).every((s) => s === 429)).toBe(true);
    const keyless = await expectError(await call(`/api/v1/tasks/${UNKNOWN_TASK}`, { key: null }), 429, "rate_limited");
    expect(keyless.error.message).toContain("without an API key");

    expect((await call(`/api/v1/tasks/${UNKNOWN_TASK}`)).status).toBe(404);
    expect((await call(`/api/v1/tasks/${UNKNOWN_TASK}`, { headers: { "cf-connecting-ip": randomIp() } })).status).toBe(404);
  });

  it("with the header trusted but absent from a request, failures are counted per key too, not in one shared bucket", async () => {
    const call = appWith({ RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: "3", RATE_LIMIT_AUTH_FAILURES_BEFORE_BLOCK: "6" });
    for (let i = 0; i < 10; i++) expect((await call(`/api/v1/tasks/${UNKNOWN_TASK}`, { key: badKey() })).status).toBe(401);
    expect((await call(`/api/v1/tasks/${UNKNOWN_TASK}`)).status).toBe(404);
  });

  it("with the header trusted, still counts per address: another address with the same bad key is not throttled", async () => {
    const call = appWith({ RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: "3", RATE_LIMIT_AUTH_FAILURES_BEFORE_BLOCK: "6" });
    const key = badKey();
    const address = randomIp();
    for (let i = 0; i < 3; i++)
      await expectError(await call(`/api/v1/tasks/${UNKNOWN_TASK}`, { key, headers: { "cf-connecting-ip": address } }), 401, "unauthorized");
    const throttled = await expectError(await call(`/api/v1/tasks/${UNKNOWN_TASK}`, { headers: { "cf-connecting-ip": address } }), 429, "rate_limited");
    expect(throttled.error.message).toContain("this address");
    await expectError(await call(`/api/v1/tasks/${UNKNOWN_TASK}`, { key, headers: { "cf-connecting-ip": randomIp() } }), 401, "unauthorized");
  });
});

describe("stream connections without a trustworthy address", () => {
  it("are limited per API key, whatever addresses they claim", async () => {
    const call = appWith({ CLIENT_ADDRESS_HEADER: "none", RATE_LIMIT_STREAMS_PER_MINUTE: "2" });
    const open = async (key: string, taskId: string) =>
      call(`/api/v1/tasks/${taskId}/stream`, { key, headers: { upgrade: "websocket", "cf-connecting-ip": randomIp() } });
    const [a, b] = [await createKey(), await createKey()];
    const [taskA, taskB] = [await createTaskAs(a.key, { pool: uniquePool() }), await createTaskAs(b.key, { pool: uniquePool() })];
    const sockets: WebSocket[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await open(a.key, taskA.id);
      expect(res.status).toBe(101);
      res.webSocket!.accept();
      sockets.push(res.webSocket!);
    }
    const refused = await open(a.key, taskA.id);
    expect((await expectError(refused, 429, "rate_limited")).error.message).toContain("streams");
    // Another key has its own budget.
    const other = await open(b.key, taskB.id);
    expect(other.status).toBe(101);
    other.webSocket!.accept();
    for (const ws of [...sockets, other.webSocket!]) ws.close(1000, "done");
  });
});

describe("the audit log without a trustworthy address", () => {
  it("records no client address, even when the request claims one", async () => {
    const call = appWith({ CLIENT_ADDRESS_HEADER: "none" });
    const requestId = `audit-${crypto.randomUUID()}`;
    const res = await call("/api/v1/tasks", {
      json: taskSpec({ pool: uniquePool() }),
      headers: { "x-request-id": requestId, "cf-connecting-ip": "198.51.100.23" },
    });
    expect(res.status).toBe(201);
    const entry = await vi.waitFor(
      async () => {
        const page = AuditPage.parse(await (await apiFetch("/api/v1/audit?limit=500")).json());
        const found = page.entries.find((e) => e.request_id === requestId);
        if (!found) throw new Error("not written yet");
        return found;
      },
      { timeout: 5_000, interval: 20 },
    );
    expect(entry).toMatchObject({ action: "task.create", outcome: "success", client_ip: null });
  });
});

describe("the warning", () => {
  it("is logged once, on the first request, when no address is trustworthy", async () => {
    const warnings: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((...args: unknown[]) => void warnings.push(args.map(String).join(" ")));
    const call = appWith({ CLIENT_ADDRESS_HEADER: "none" });
    for (let i = 0; i < 3; i++) expect((await call(`/api/v1/tasks/${UNKNOWN_TASK}`)).status).toBe(404);
    const about = warnings.filter((w) => w.includes("CLIENT_ADDRESS_HEADER=none"));
    expect(about).toHaveLength(1);
    expect(JSON.parse(about[0]!)).toMatchObject({ level: "warn", msg: expect.stringContaining("allowed_cidrs are refused") });

    warnings.length = 0;
    const trusted = appWith({});
    expect((await trusted(`/api/v1/tasks/${UNKNOWN_TASK}`)).status).toBe(404);
    expect(warnings.filter((w) => w.includes("CLIENT_ADDRESS_HEADER"))).toHaveLength(0);
  });
});
