/**
 * Integration: `/ready` checks what serving needs — configuration, the rate-limit backend and
 * the Durable Objects — and names what fails; `/health` stays liveness only. The failing
 * backend is real: the app pointed at an Upstash endpoint nobody listens on.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../edge/src/app.js";
import type { Env } from "../../edge/src/env.js";
import { ORIGIN } from "./api-client.js";

function appWith(vars: Partial<Record<keyof Env, string>>) {
  const app = createApp();
  const bindings = { ...env, ...vars } as Env;
  return (path: string) => app.request(`${ORIGIN}${path}`, {}, bindings);
}

describe("/ready and /health", () => {
  it("is ready when the limiter objects, the registry, a dispatcher and a metrics shard answer", async () => {
    const res = await SELF.fetch(`${ORIGIN}/ready`);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toEqual({ status: "ready" });
  });

  it("answers 503 naming the rate-limit backend when Upstash does not answer, while /health stays 200", async () => {
    const call = appWith({ UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9", UPSTASH_REDIS_REST_TOKEN: "unused", RATE_LIMIT_REDIS_TIMEOUT_MS: "200" });
    const res = await call("/ready");
    expect(res.status).toBe(503);
    const body = (await res.json()) as { status: string; failing: string[] };
    expect(body.status).toBe("unavailable");
    expect(body.failing).toHaveLength(1);
    expect(body.failing[0]).toMatch(/^rate-limit backend \(Upstash Redis\): /);
    expect((await call("/health")).status).toBe(200);
  });

  it("names missing configuration", async () => {
    const res = await appWith({ RUNNER_SECRETS: "" })("/ready");
    expect(res.status).toBe(503);
    expect(((await res.json()) as { failing: string[] }).failing).toEqual(["RUNNER_SECRETS is not set: no runner can connect"]);
  });

  it("skips the limiter check when rate limits are off", async () => {
    const res = await appWith({ RATE_LIMIT_ENABLED: "false", UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9", UPSTASH_REDIS_REST_TOKEN: "unused" })("/ready");
    expect(res.status, await res.clone().text()).toBe(200);
  });
});
