/**
 * Picks the limiter backend from the configuration, once per isolate: Upstash Redis when
 * `UPSTASH_REDIS_REST_URL` and `UPSTASH_REDIS_REST_TOKEN` are set, else the `RateLimiter`
 * Durable Objects (so `wrangler dev` needs nothing else).
 * @module
 */
import { edgeConfig, type Env } from "../env.js";
import { durableObjectLimiter } from "./durable-object-limiter.js";
import type { Limiter } from "./limiter.js";
import { redisClient } from "./redis-client.js";
import { upstashLimiter } from "./upstash-limiter.js";

const cache = new WeakMap<object, Limiter>();

export function limiterForEnv(env: Env): Limiter {
  const cached = cache.get(env);
  if (cached) return cached;
  const { upstash, redisTimeoutMs, shards } = edgeConfig(env).rateLimit;
  const limiter = upstash
    ? upstashLimiter({ redis: redisClient({ ...upstash, timeoutMs: redisTimeoutMs }) })
    : durableObjectLimiter({ namespace: env.RATE_LIMITERS, shards });
  cache.set(env, limiter);
  return limiter;
}
