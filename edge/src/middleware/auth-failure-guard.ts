/**
 * Limits failed authentication per client IP, with an escalating block.
 *
 * - More than `authFailuresPerMinute` 401s from one IP in a minute: its requests get 429
 *   until the oldest of those failures is a minute old (`Retry-After` ≤ 60; 60 after a burst).
 * - `authFailuresBeforeBlock` 401s within `authFailureWindowMs`: the IP is blocked for
 *   `authBlockMs` (an hour by default), `Retry-After` counting down to the block's end.
 *
 * A throttled or blocked IP gets 429 even with a good key: the key is not even checked.
 * Letting a correct key through would tell a guesser which guess was right, so the block
 * would not slow guessing at all. The cost is that clients sharing an egress IP with an
 * attacker are locked out with it; operators behind such NATs raise the thresholds.
 * Runs before `apiKeyAuth` and counts the 401s it answers.
 * @module
 */
import { createMiddleware } from "hono/factory";
import { ApiError } from "../api-error.js";
import { edgeConfig, type Env } from "../env.js";
import { clientIp } from "../rate-limit/client-ip.js";
import { decide } from "../rate-limit/fail-policy.js";
import type { Limiter } from "../rate-limit/limiter.js";
import { limiterForEnv } from "../rate-limit/limiter-for-env.js";
import { logFor } from "../log.js";
import { requestLogger } from "./request-log.js";

const MINUTE_MS = 60_000;

export interface AuthFailureGuardOptions {
  limiter?: (env: Env) => Limiter;
}

/**
 * @example app.use("/api/v1/*", authFailureGuard()); app.use("/api/v1/*", apiKeyAuth());
 */
export function authFailureGuard(options: AuthFailureGuardOptions = {}) {
  const limiterOf = options.limiter ?? limiterForEnv;
  return createMiddleware<{ Bindings: Env }>(async (c, next) => {
    const config = edgeConfig(c.env).rateLimit;
    if (!config.enabled) return next();
    const limiter = limiterOf(c.env);
    const ip = clientIp(c.req);
    const check = (key: string, limit: number, windowMs: number, cost: 0 | 1) =>
      decide({ limiter, policy: "auth", key: `${key}:${ip}`, options: { limit, windowMs, cost }, failClosed: config.failClosed, log: requestLogger(c) });

    // Look (cost 0) at both before anything else; they are independent, so one round trip.
    const [recent, block] = await Promise.all([
      check("auth-failures-minute", config.authFailuresPerMinute, MINUTE_MS, 0),
      check("auth-block", 1, config.authBlockMs, 0),
    ]);
    if (!block.allowed) {
      throw new ApiError("rate_limited", "this address is blocked after too many failed authentications", undefined, {
        "Retry-After": String(block.retryAfterSeconds),
      });
    }
    if (!recent.allowed) {
      throw new ApiError("rate_limited", "too many failed authentications from this address; slow down", undefined, {
        "Retry-After": String(recent.retryAfterSeconds),
      });
    }

    await next();
    if (c.res.status !== 401) return;
    const [, window] = await Promise.all([
      check("auth-failures-minute", config.authFailuresPerMinute, MINUTE_MS, 1),
      check("auth-failures-window", config.authFailuresBeforeBlock, config.authFailureWindowMs, 1),
    ]);
    // This failure filled the window (or found it full): block the address.
    if (!window.degraded && window.remaining === 0) {
      await check("auth-block", 1, config.authBlockMs, 1);
      logFor(c.env).warn("client address blocked after repeated authentication failures", { request_id: c.get("requestId"), block_seconds: config.authBlockMs / 1_000 });
    }
  });
}
