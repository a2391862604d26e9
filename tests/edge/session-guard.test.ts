/**
 * Integration: what guards console sign-in — a bad key pasted at sign-in counts as a failed
 * authentication exactly like a bad bearer key (per address, or per key without one); the
 * key never reaches a log line or an answer; without a sealing key sign-in is a 503; a cookie
 * sealed under another SESSION_SECRET does not open. The real app (`createApp()`) with its own
 * bindings, on the Durable Object limiter.
 */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../edge/src/app.js";
import type { Env } from "../../edge/src/env.js";
import { ORIGIN, expectError, taskSpec, uniquePool } from "./api-client.js";
import { advanceClock } from "./clock.js";
import { TEST_ADMIN_KEY } from "./credentials.js";
import { createKey } from "./key-client.js";

afterEach(() => vi.restoreAllMocks());

function appWith(vars: Partial<Record<keyof Env, string>>) {
  const app = createApp();
  const bindings = { ...env, RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: "3", RATE_LIMIT_AUTH_FAILURES_BEFORE_BLOCK: "100", ...vars } as Env;
  return (path: string, init: { method?: string; headers?: Record<string, string>; json?: unknown } = {}) =>
    app.request(
      `${ORIGIN}${path}`,
      {
        method: init.method ?? (init.json === undefined ? "GET" : "POST"),
        headers: { ...(init.json === undefined ? {} : { "content-type": "application/json" }), ...init.headers },
        body: init.json === undefined ? undefined : JSON.stringify(init.json),
      },
      bindings,
    );
}

const address = () => `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;

describe("failed sign-ins", () => {
  it("count per address like failed bearer keys: after the burst even a good key is 429", async () => {
    advanceClock(0);
    const call = appWith({});
    const ip = address();
    const signIn = (apiKey: string) => call("/api/v1/session", { json: { api_key: apiKey }, headers: { "cf-connecting-ip": ip } });
    await expectError(await signIn("wrong-key-0123456789-a"), 401, "unauthorized");
    await expectError(await signIn("wrong-key-0123456789-b"), 401, "unauthorized");
    // A bad bearer key from the same address fills the same count.
    await expectError(
      await call("/api/v1/tasks", { headers: { authorization: "Bearer wrong-key-0123456789-c", "cf-connecting-ip": ip } }),
      401,
      "unauthorized",
    );
    await expectError(await signIn(TEST_ADMIN_KEY), 429, "rate_limited");
    // Another address signs in.
    expect((await call("/api/v1/session", { json: { api_key: TEST_ADMIN_KEY }, headers: { "cf-connecting-ip": address() } })).status).toBe(201);
  });

  it("count per presented key without a client address, whichever way the key is sent", async () => {
    advanceClock(0);
    const call = appWith({ CLIENT_ADDRESS_HEADER: "none" });
    const bad = `wrong-key-${crypto.randomUUID()}`;
    for (let i = 0; i < 3; i++) await expectError(await call("/api/v1/session", { json: { api_key: bad } }), 401, "unauthorized");
    await expectError(await call("/api/v1/session", { json: { api_key: bad } }), 429, "rate_limited");
    await expectError(await call("/api/v1/tasks", { headers: { authorization: `Bearer ${bad}` } }), 429, "rate_limited");
    // Others, and cookie-authenticated requests, are not held back by that key's failures.
    const good = await call("/api/v1/session", { json: { api_key: TEST_ADMIN_KEY } });
    expect(good.status).toBe(201);
    const cookie = good.headers.get("set-cookie")!.split(";")[0]!;
    expect((await call("/api/v1/tasks", { headers: { cookie } })).status).toBe(200);
  });

  it("do not include a dead session cookie's 401s, so a console left open does not lock its user out", async () => {
    advanceClock(0);
    const call = appWith({});
    const ip = address();
    const signedIn = await call("/api/v1/session", { json: { api_key: TEST_ADMIN_KEY }, headers: { "cf-connecting-ip": ip } });
    const cookie = signedIn.headers.get("set-cookie")!.split(";")[0]!;
    advanceClock(28_800_000);
    for (let i = 0; i < 6; i++) {
      await expectError(await call("/api/v1/tasks", { headers: { cookie, "cf-connecting-ip": ip } }), 401, "unauthorized");
    }
    expect((await call("/api/v1/session", { json: { api_key: TEST_ADMIN_KEY }, headers: { "cf-connecting-ip": ip } })).status).toBe(201);
  });
});

describe("secrets", () => {
  it("no answer and no log line of a whole session's life shows the key", async () => {
    const key = await createKey();
    const lines: string[] = [];
    for (const method of ["log", "warn", "error", "info", "debug"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    }
    const call = appWith({ LOG_LEVEL: "debug", LOG_SAMPLE_RATIO: "1" });
    const answers: Response[] = [];
    const send = async (...args: Parameters<typeof call>) => {
      const res = await call(...args);
      answers.push(res.clone());
      return res;
    };
    await send("/api/v1/session", { json: { api_key: `${key.key}x` } });
    const signedIn = await send("/api/v1/session", { json: { api_key: key.key } });
    expect(signedIn.status).toBe(201);
    const cookie = signedIn.headers.get("set-cookie")!.split(";")[0]!;
    const { csrf_token } = (await signedIn.json()) as { csrf_token: string };
    await send("/api/v1/session", { headers: { cookie } });
    await send("/api/v1/tasks", { headers: { cookie }, json: taskSpec({ pool: uniquePool() }) });
    await send("/api/v1/tasks", { headers: { cookie, "x-csrf-token": csrf_token }, json: taskSpec({ pool: uniquePool() }) });
    await send("/api/v1/session", { method: "DELETE", headers: { cookie, "x-csrf-token": csrf_token } });

    const secret = key.key.split("_").at(-1)!;
    for (const res of answers) {
      const text = `${[...res.headers].map(([name, value]) => `${name}: ${value}`).join("\n")}\n${await res.text()}`;
      expect(text).not.toContain(secret);
    }
    expect(lines.some((line) => line.includes("/api/v1/session"))).toBe(true);
    expect(lines.join("\n")).not.toContain(secret);
  });

  it("answers 503 to sign-in when there is neither SESSION_SECRET nor TASK_SECRETS_KEY", async () => {
    const call = appWith({ CODEFORGE_LOCAL_MODE: "false", TASK_SECRETS_KEY: undefined, SESSION_SECRET: undefined });
    const body = await expectError(await call("/api/v1/session", { json: { api_key: TEST_ADMIN_KEY } }), 503, "unavailable");
    expect(body.error.message).toContain("SESSION_SECRET");
  });

  it("a cookie sealed under one SESSION_SECRET does not open under another", async () => {
    const first = appWith({ SESSION_SECRET: "first-session-secret-0123456789abcdef" });
    const second = appWith({ SESSION_SECRET: "second-session-secret-0123456789abcdef" });
    const res = await first("/api/v1/session", { json: { api_key: TEST_ADMIN_KEY } });
    expect(res.status).toBe(201);
    const cookie = res.headers.get("set-cookie")!.split(";")[0]!;
    expect((await first("/api/v1/session", { headers: { cookie } })).status).toBe(200);
    await expectError(await second("/api/v1/session", { headers: { cookie } }), 401, "unauthorized");
  });
});
