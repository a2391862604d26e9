/**
 * Liveness and readiness. Never authenticated, never rate limited.
 *
 * `/health` is liveness only: the Worker answers. `/ready` says whether this edge can serve:
 * its configuration, the rate-limit backend (a zero-cost peek through the configured limiter —
 * Upstash Redis or the `RateLimiter` objects — under a short timeout), and the Durable Objects
 * every request path needs (the pool registry, the default pool's Dispatcher, a `Metrics`
 * shard). A 503 names each failing check.
 * @module
 */
import { edgeConfig, type Env } from "../env.js";
import { openApiRoutes } from "../http/openapi-app.js";
import { logFor } from "../log.js";
import { metricsShardFor } from "../metrics/metrics-object.js";
import { limiterForEnv } from "../rate-limit/limiter-for-env.js";
import { poolRegistry } from "../registry/pool-registry.js";
import { health, ready } from "./operations.routes.js";

/** Each check's budget: a dependency slower than this is as good as down for a probe. */
export const READY_CHECK_TIMEOUT_MS = 2_000;

async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}

const reason = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 200);

// Defined in `operations.routes.ts`.
export const healthRoutes = openApiRoutes<{ Bindings: Env }>()
  .openapi(health, (c) => c.json({ status: "ok" }, 200))
  .openapi(ready, async (c) => {
    const failing: string[] = [];
    let config: ReturnType<typeof edgeConfig> | undefined;
    try {
      config = edgeConfig(c.env);
      if (!config.adminKey) failing.push("CODEFORGE_ADMIN_KEY is not set: no client can authenticate");
      if (config.runnerSecrets.length === 0) failing.push("RUNNER_SECRETS is not set: no runner can connect");
    } catch (err) {
      failing.push(err instanceof Error ? err.message : "configuration is invalid");
    }
    const checks: [string, () => Promise<unknown>][] = [
      ["pool registry", () => poolRegistry(c.env).pools()],
      ["dispatcher", () => c.env.DISPATCHERS.get(c.env.DISPATCHERS.idFromName("default")).stats()],
      ["metrics shard", () => metricsShardFor(c.env).ping()],
    ];
    if (config?.rateLimit.enabled) {
      const backend = config.rateLimit.upstash ? "rate-limit backend (Upstash Redis)" : "rate-limit backend (RateLimiter objects)";
      checks.unshift([backend, () => limiterForEnv(c.env).limit("ready-probe", { limit: 1, windowMs: 1_000, cost: 0 })]);
    }
    const results = await Promise.allSettled(checks.map(([, run]) => within(READY_CHECK_TIMEOUT_MS, run())));
    results.forEach((result, i) => {
      if (result.status === "rejected") failing.push(`${checks[i]![0]}: ${reason(result.reason)}`);
    });
    if (failing.length) {
      logFor(c.env).error("not ready", { failing });
      return c.json({ status: "unavailable", failing }, 503);
    }
    return c.json({ status: "ready" }, 200);
  });
