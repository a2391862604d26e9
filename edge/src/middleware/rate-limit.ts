/**
 * Per-route rate limiting: one sliding-window policy, decided by the configured limiter.
 *
 * An admitted request gets `RateLimit-Policy` and `RateLimit` items for this policy on its
 * response (several policies on one route add several items); a refused one is a 429
 * `rate_limited` envelope with an exact `Retry-After`. When the limiter backend fails, the
 * policy's fail-open/closed setting decides (see `rate-limit/fail-policy.ts`).
 * @module
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { ApiError } from "../api-error.js";
import { edgeConfig, type Env, type RateLimitPolicyName } from "../env.js";
import { decide } from "../rate-limit/fail-policy.js";
import type { Limiter } from "../rate-limit/limiter.js";
import { limiterForEnv } from "../rate-limit/limiter-for-env.js";
import { limitItem, policyItem } from "../rate-limit/rate-limit-headers.js";
import { requestLogger } from "./request-log.js";

// Hono's Context is invariant in its env; the options are read from any app's context.
type AnyContext = Context<any>;

export interface RateLimitOptions {
  /** Name shown in the headers and logs, and the fail-open/closed switch it answers to. */
  policy: RateLimitPolicyName;
  /** Whose budget this request spends: an API key id, a client IP. Stored only hashed. */
  key: (c: AnyContext) => string;
  /** The quota per window for this request (a key's own limit, else the configured one). */
  limit: (c: AnyContext) => number;
  windowMs?: number;
  /** The backend; the configured one (Upstash or Durable Objects) unless a test hands one in. */
  limiter?: (env: Env) => Limiter;
}

/**
 * @example
 * app.post("/api/v1/tasks", rateLimit({
 *   policy: "tasks",
 *   key: (c) => c.get("principal").keyId,
 *   limit: (c) => edgeConfig(c.env).rateLimit.tasksPerMinute,
 * }))
 */
export function rateLimit(options: RateLimitOptions) {
  const windowMs = options.windowMs ?? 60_000;
  const limiterOf = options.limiter ?? limiterForEnv;
  return createMiddleware<{ Bindings: Env }>(async (c, next) => {
    const config = edgeConfig(c.env).rateLimit;
    if (!config.enabled) return next();
    const limit = options.limit(c);
    const decision = await decide({
      limiter: limiterOf(c.env),
      policy: options.policy,
      key: `${options.policy}:${options.key(c)}`,
      options: { limit, windowMs },
      failClosed: config.failClosed,
      log: requestLogger(c),
    });
    const policy = policyItem(options.policy, limit, windowMs);
    if (!decision.allowed) {
      throw new ApiError(
        "rate_limited",
        `rate limit "${options.policy}" exceeded (${limit} per ${windowMs / 1_000} s); retry in ${decision.retryAfterSeconds} s`,
        undefined,
        { "Retry-After": String(decision.retryAfterSeconds), "RateLimit-Policy": policy, RateLimit: limitItem(options.policy, decision) },
      );
    }
    await next();
    if (decision.degraded) return; // nothing is known about the quota: say nothing rather than guess
    try {
      c.res.headers.append("RateLimit-Policy", policy);
      c.res.headers.append("RateLimit", limitItem(options.policy, decision));
    } catch {
      // An immutable response (a socket handed through from another object): it goes out without them.
    }
  });
}
