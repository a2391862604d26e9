/**
 * Integration: what a client sees when the limiter backend is down — the real app pointed at
 * an Upstash endpoint nobody listens on. Task creation fails closed (503 with Retry-After),
 * reads and authentication fail open, and a later healthy backend limits again.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../edge/src/app.js";
import type { Env } from "../../edge/src/env.js";
import { expectError, taskSpec, uniquePool } from "./api-client.js";
import { TEST_ADMIN_KEY } from "./credentials.js";

function appWith(vars: Partial<Record<keyof Env, string>>) {
  const app = createApp();
  const bindings = {
    ...env,
    UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9",
    UPSTASH_REDIS_REST_TOKEN: "unused",
    RATE_LIMIT_REDIS_TIMEOUT_MS: "200",
    ...vars,
  } as Env;
  return (path: string, init: RequestInit = {}) =>
    app.request(
      `https://codeforge.test${path}`,
      { ...init, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, "content-type": "application/json", ...init.headers } },
      bindings,
    );
}

describe("rate limiter unavailable", () => {
  it("refuses task creation (fail closed) but serves reads without RateLimit headers (fail open)", async () => {
    const call = appWith({});
    const create = await call("/api/v1/tasks", { method: "POST", body: JSON.stringify(taskSpec({ pool: uniquePool() })) });
    expect(create.headers.get("retry-after")).toBe("5");
    await expectError(create, 503, "unavailable");

    const read = await call("/api/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa");
    expect(read.status).toBe(404);
    expect(read.headers.get("ratelimit")).toBeNull();
  });

  it("lets task creation through too when configured to fail open", async () => {
    const call = appWith({ RATE_LIMIT_FAIL_CLOSED: "" });
    const create = await call("/api/v1/tasks", { method: "POST", body: JSON.stringify(taskSpec({ pool: uniquePool() })) });
    expect(create.status, await create.clone().text()).toBe(201);
  });

  it("refuses a configuration with half of the Upstash settings", async () => {
    const call = appWith({ UPSTASH_REDIS_REST_TOKEN: "" });
    await expectError(await call("/api/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa"), 500, "internal_error");
  });
});
