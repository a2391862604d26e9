/**
 * Integration: a request the route refuses (4xx) gives back what it spent, in every window it
 * spent — through the real Worker on the Durable Object limiter, with keys carrying their own
 * low limits. Admitted requests the route serves still count exactly; a 429 from the limiter
 * itself spends nothing; a release that fails neither fails nor slows the response.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { handleError } from "../../edge/src/api-error.js";
import type { Env } from "../../edge/src/env.js";
import { rateLimit } from "../../edge/src/rate-limit/rate-limit-middleware.js";
import { durableObjectLimiter } from "../../edge/src/rate-limit/durable-object-limiter.js";
import type { Limiter } from "../../edge/src/rate-limit/limiter.js";
import { apiFetch, expectError, taskSpec, uniquePool } from "./api-client.js";
import { createKey } from "./key-client.js";

const UNKNOWN_TASK = "tsk_0000000000aaaaaaaaaaaaaaaa";

describe("refused requests spend no rate-limit budget", () => {
  it("lets a read-only key make more 403 task submissions than its tasks limit and still be admitted after", async () => {
    const key = await createKey({ scopes: ["tasks:read"], limits: { tasks_per_minute: 3, requests_per_minute: 5 } });
    for (let i = 0; i < 8; i++) {
      const res = await apiFetch("/api/v1/tasks", { key: key.key, json: taskSpec({ pool: uniquePool() }) });
      // Given back before the client reads it: the whole quota is still there.
      expect(res.headers.get("ratelimit-policy")).toBe(`"tasks";q=3;w=60, "requests";q=5;w=60`);
      expect(res.headers.get("ratelimit")).toBe(`"tasks";r=3;t=0, "requests";r=5;t=0`);
      await expectError(res, 403, "forbidden");
    }
    // Every permitted request is still admitted, up to exactly the requests limit.
    for (let i = 0; i < 5; i++) {
      const list = await apiFetch("/api/v1/tasks", { key: key.key });
      expect(list.status, await list.clone().text()).toBe(200);
      expect(list.headers.get("ratelimit")).toBe(`"requests";r=${4 - i};t=60`);
    }
    await expectError(await apiFetch("/api/v1/tasks", { key: key.key }), 429, "rate_limited");
  });

  it("does not spend `tasks` on submissions that fail validation, and counts the admitted ones exactly", async () => {
    const key = await createKey({ limits: { tasks_per_minute: 2 } });
    const pool = uniquePool();
    for (let i = 0; i < 5; i++) {
      const res = await apiFetch("/api/v1/tasks", { key: key.key, json: { ...taskSpec({ pool }), prompt: "" } });
      expect(res.headers.get("ratelimit")).toMatch(/^"tasks";r=2;t=0, /);
      await expectError(res, 400, "validation_failed");
    }
    const broken = await apiFetch("/api/v1/tasks", { key: key.key, body: "{not json", headers: { "content-type": "application/json" } });
    expect(broken.status).toBe(400);
    expect(broken.headers.get("ratelimit")).toMatch(/^"tasks";r=2;t=0, /);
    await broken.body?.cancel();
    // A follow-up to a task that does not exist: 404, given back too.
    const followUp = await apiFetch(`/api/v1/tasks/${UNKNOWN_TASK}/instructions`, { key: key.key, json: { prompt: "and more" } });
    expect(followUp.headers.get("ratelimit")).toMatch(/^"tasks";r=2;t=0, /);
    await expectError(followUp, 404, "not_found");

    for (let i = 0; i < 2; i++) {
      const created = await apiFetch("/api/v1/tasks", { key: key.key, json: taskSpec({ pool }) });
      expect(created.status, await created.clone().text()).toBe(201);
      expect(created.headers.get("ratelimit")).toMatch(new RegExp(`^"tasks";r=${1 - i};t=60, `));
    }
    const refused = await apiFetch("/api/v1/tasks", { key: key.key, json: taskSpec({ pool }) });
    expect((await expectError(refused, 429, "rate_limited")).error.message).toContain(`"tasks"`);
  });

  it("gives back 404 reads, and a given-back request's headers show the quota as it then stands", async () => {
    const key = await createKey({ limits: { requests_per_minute: 3 } });
    const ok = await apiFetch("/api/v1/tasks", { key: key.key });
    expect(ok.headers.get("ratelimit")).toBe(`"requests";r=2;t=60`);
    for (let i = 0; i < 6; i++) {
      const missing = await apiFetch(`/api/v1/tasks/${UNKNOWN_TASK}`, { key: key.key });
      // One admitted request still in the window: the reset is not 0, and at most a window away.
      expect(missing.headers.get("ratelimit")).toBe(`"requests";r=2;t=60`);
      await expectError(missing, 404, "not_found");
    }
    expect((await apiFetch("/api/v1/tasks", { key: key.key })).status).toBe(200);
    expect((await apiFetch("/api/v1/tasks", { key: key.key })).status).toBe(200);
    const refused = await apiFetch(`/api/v1/tasks/${UNKNOWN_TASK}`, { key: key.key });
    // Refused by the limiter itself: nothing was spent, so nothing is given back.
    expect(refused.headers.get("ratelimit")).toBe(`"requests";r=0;t=60`);
    await expectError(refused, 429, "rate_limited");
  });
});

describe("giving back in the background", () => {
  /** One `requests` window of 1 per minute for one owner over `limiter`, on a route answering `status`. */
  function appOver(limiter: Limiter, status: 403 | 500) {
    const owner = `owner:${crypto.randomUUID()}`;
    return new Hono<{ Bindings: Env }>()
      .use(rateLimit({ key: () => owner, policies: () => [{ policy: "requests", limit: 1 }], limiter: () => limiter }))
      .get("/", (c) => c.json({ status }, status))
      .onError(handleError);
  }
  const objects = () => durableObjectLimiter({ namespace: env.RATE_LIMITERS });
  const call = async (app: Hono<{ Bindings: Env }>) => {
    const ctx = createExecutionContext();
    const started = Date.now();
    const res = await app.fetch(new Request("https://codeforge.test/"), env, ctx);
    const answeredMs = Date.now() - started;
    await waitOnExecutionContext(ctx);
    return { res, answeredMs, settledMs: Date.now() - started };
  };

  it("answers a refusal without waiting for the release, and a release that fails does not fail it", async () => {
    // The real Durable Object limiter, except that releasing takes 400 ms and then fails.
    const limiter: Limiter = { ...objects(), release: () => scheduler.wait(400).then(() => Promise.reject(new Error("limiter down"))) };
    const app = appOver(limiter, 403);
    const { res, answeredMs, settledMs } = await call(app);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ status: 403 });
    expect(answeredMs).toBeLessThan(300);
    expect(settledMs).toBeGreaterThanOrEqual(400); // the release ran, and failed, after the answer
    // Not given back after all: the entry stays until it ages out (over-counted by one, never under).
    expect((await call(app)).res.status).toBe(429);
  });

  it("gives back a 403 for good once the release has run", async () => {
    const app = appOver(objects(), 403);
    for (let i = 0; i < 3; i++) expect((await call(app)).res.status).toBe(403);
  });

  it("keeps counting a request answered with a 5xx", async () => {
    const app = appOver(objects(), 500);
    const failed = (await call(app)).res;
    expect(failed.status).toBe(500);
    expect(failed.headers.get("ratelimit")).toBe(`"requests";r=0;t=60`);
    const refused = (await call(app)).res;
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
  });
});
