/**
 * Per-route rate limiting: the sliding-window policies a request spends, decided together by
 * the configured limiter in one call (a key's `requests` and `tasks` windows on task creation).
 *
 * An admitted request gets a `RateLimit-Policy` and a `RateLimit` item per policy on its
 * response; a refused one is a 429 `rate_limited` envelope naming the policy that refused, with
 * a `Retry-After` exact for every window that refused (nothing is logged for a refused request,
 * in any window). When the limiter backend fails, the policies' fail-open/closed settings
 * decide (see `rate-limit/fail-policy.ts`).
 *
 * A request the route then refuses — any 4xx: a missing scope, a validation error, not found,
 * a conflict — gives back what it spent: its entry leaves every window it was logged in
 * (`Limiter.release`), after the response, in `waitUntil`, so it adds no latency. Its
 * `RateLimit` items already count it as given back. A 5xx is not a refusal but our failure:
 * it keeps counting, so retries against a struggling service stay bounded. A release that
 * fails is logged and leaves the entry to age out — the client is over-counted by one, never
 * under-counted, and the response is not affected.
 * @module
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { ApiError } from "../api-error.js";
import { edgeConfig, type Env } from "../env.js";
import { waitUntilOf } from "../http/wait-until.js";
import type { RateLimitPolicyName } from "../settings/rate-limit-settings.js";
import { decideAll } from "./fail-policy.js";
import type { Limiter, LimitResult, Release } from "./limiter.js";
import { limiterForEnv } from "./limiter-for-env.js";
import { limitItem, policyItem } from "./rate-limit-headers.js";
import { requestLogger } from "../middleware/request-log.js";

// biome-ignore lint/suspicious/noExplicitAny: Hono's Context is invariant in its env; the options are read from any app's context.
type AnyContext = Context<any>;

export interface RateLimitPolicy {
  /** Name shown in the headers and logs, and the fail-open/closed switch it answers to. */
  policy: RateLimitPolicyName;
  /** The quota per window for this request (a key's own limit, else the configured one). */
  limit: number;
}

export interface RateLimitOptions {
  /** Whose budget this request spends: an API key id, a client IP. Stored only hashed. */
  key: (c: AnyContext) => string;
  /** The policies this request spends, in the order their headers list them (the narrowest first). */
  policies: (c: AnyContext) => RateLimitPolicy[];
  windowMs?: number;
  /** The backend; the configured one (Upstash or Durable Objects) unless a test hands one in. */
  limiter?: (env: Env) => Limiter;
}

/**
 * @example
 * app.use("/api/v1/*", rateLimit({
 *   key: (c) => c.get("principal").keyId,
 *   policies: (c) => [{ policy: "requests", limit: edgeConfig(c.env).rateLimit.requestsPerMinute }],
 * }))
 */
export function rateLimit(options: RateLimitOptions) {
  const windowMs = options.windowMs ?? 60_000;
  const limiterOf = options.limiter ?? limiterForEnv;
  return createMiddleware<{ Bindings: Env }>(async (c, next) => {
    const config = edgeConfig(c.env).rateLimit;
    if (!config.enabled) return next();
    const owner = options.key(c);
    const policies = options.policies(c);
    const limiter = limiterOf(c.env);
    const decisions = await decideAll({
      limiter,
      group: owner,
      policies: policies.map(({ policy, limit }) => ({ policy, key: `${policy}:${owner}`, options: { limit, windowMs } })),
      failClosed: config.failClosed,
      log: requestLogger(c),
    });
    // A degraded decision knows nothing about the quota: say nothing rather than guess.
    const known = policies.flatMap(({ policy, limit }, i) => (decisions[i]!.degraded ? [] : [{ policy, limit, decision: decisions[i]! }]));
    const refusing = known.filter(({ decision }) => !decision.allowed);
    if (refusing.length > 0) {
      const { policy, limit } = refusing[0]!;
      // Every refusing window must have room again before a retry can be admitted.
      const retryAfter = Math.max(...refusing.map((r) => r.decision.retryAfterSeconds));
      throw new ApiError("rate_limited", `rate limit "${policy}" exceeded (${limit} per ${windowMs / 1_000} s); retry in ${retryAfter} s`, undefined, {
        "Retry-After": String(retryAfter),
        "RateLimit-Policy": known.map((k) => policyItem(k.policy, k.limit, windowMs)).join(", "),
        RateLimit: known.map((k) => limitItem(k.policy, k.decision)).join(", "),
      });
    }
    await next();
    // A degraded decision logged nothing, so it has nothing to give back.
    const spent: Release[] = known.flatMap(({ policy, decision }) => (decision.entry ? [{ key: `${policy}:${owner}`, entry: decision.entry }] : []));
    const givenBack = isRefusal(c.res.status) && spent.length > 0;
    if (givenBack) {
      const release = limiter.release(owner, spent).catch((err: unknown) => {
        requestLogger(c).warn("rate limit release failed", {
          policies: known.map((k) => k.policy).join(","),
          error: String(err instanceof Error ? err.message : err).slice(0, 300),
        });
      });
      const waitUntil = waitUntilOf(c);
      // Without an execution context (a test calling `app.request`) the release is awaited instead.
      if (waitUntil) waitUntil(release);
      else await release;
    }
    try {
      for (const { policy, limit, decision } of known) {
        c.res.headers.append("RateLimit-Policy", policyItem(policy, limit, windowMs));
        c.res.headers.append("RateLimit", limitItem(policy, givenBack && decision.entry ? afterRelease(decision) : decision));
      }
    } catch {
      // An immutable response (a socket handed through from another object): it goes out without them.
    }
  });
}

/** A response that refuses the request (4xx): what it spent is given back. 5xx and the rest keep counting. */
export function isRefusal(status: number): boolean {
  return status >= 400 && status < 500;
}

/**
 * The window as the client has it once this request is given back: one more remaining; whole
 * again now when that fills the quota, else the reset already known (an upper bound: the given
 * back entry was the newest, and the one now newest is older).
 */
function afterRelease(decision: LimitResult): Pick<LimitResult, "remaining" | "resetMs"> {
  const remaining = Math.min(decision.limit, decision.remaining + 1);
  return { remaining, resetMs: remaining === decision.limit ? 0 : decision.resetMs };
}
