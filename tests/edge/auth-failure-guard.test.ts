/**
 * Integration: failed authentication per client IP, on the Durable Object limiter with a
 * fake clock — the real app (`createApp()`) with low limits in its bindings: a throttle after
 * a burst of failures, an hour's block after repeated ones, and what a blocked IP sees.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../edge/src/app.js";
import type { Env } from "../../edge/src/env.js";
import { expectError } from "./api-client.js";
import { TEST_ADMIN_KEY } from "./credentials.js";
import { advanceClock } from "./clock.js";

const UNKNOWN_TASK = "tsk_0000000000aaaaaaaaaaaaaaaa";

/** The app with its own bindings (a fresh object: its configuration is parsed anew). */
function appWith(vars: Partial<Record<keyof Env, string>>) {
  const app = createApp();
  const bindings = { ...env, RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: "3", RATE_LIMIT_AUTH_FAILURES_BEFORE_BLOCK: "6", ...vars } as Env;
  return (ip: string, key: string) =>
    app.request(`https://codeforge.test/api/v1/tasks/${UNKNOWN_TASK}`, { headers: { authorization: `Bearer ${key}`, "cf-connecting-ip": ip } }, bindings);
}

const ip = () => `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;

describe("auth failures per IP", () => {
  it("throttles an address for a minute after a burst of failures, then lets it in again", async () => {
    advanceClock(0);
    const call = appWith({});
    const address = ip();
    for (let i = 0; i < 3; i++) await expectError(await call(address, "wrong-key-0123456789"), 401, "unauthorized");
    const throttled = await call(address, TEST_ADMIN_KEY);
    expect(throttled.headers.get("retry-after")).toBe("60");
    await expectError(throttled, 429, "rate_limited");
    expect((await call(ip(), TEST_ADMIN_KEY)).status).toBe(404); // others are not affected

    advanceClock(59_000);
    expect((await call(address, TEST_ADMIN_KEY)).headers.get("retry-after")).toBe("1");
    advanceClock(1_000);
    expect((await call(address, TEST_ADMIN_KEY)).status).toBe(404);
  });

  it("blocks an address for an hour after repeated failures, good key or not", async () => {
    advanceClock(0);
    const call = appWith({});
    const address = ip();
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 3; i++) await expectError(await call(address, `wrong-key-${round}-${i}-0123456789`), 401, "unauthorized");
      advanceClock(61_000);
    }
    const blocked = await call(address, TEST_ADMIN_KEY);
    expect(blocked.headers.get("retry-after")).toBe(String(3_600 - 61));
    expect((await expectError(blocked, 429, "rate_limited")).error.message).toContain("blocked");

    advanceClock(3_600_000 - 61_000 - 1_000);
    expect((await call(address, TEST_ADMIN_KEY)).headers.get("retry-after")).toBe("1");
    advanceClock(1_000);
    expect((await call(address, TEST_ADMIN_KEY)).status).toBe(404);
  });

  it("does not count successful requests or other errors", async () => {
    advanceClock(0);
    const call = appWith({});
    const address = ip();
    for (let i = 0; i < 20; i++) expect((await call(address, TEST_ADMIN_KEY)).status).toBe(404);
    for (let i = 0; i < 3; i++) expect((await call(address, "wrong-key-0123456789")).status).toBe(401);
  });
});
