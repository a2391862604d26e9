/**
 * The limiter over `RateLimiter` Durable Objects, sharded by the key's hash.
 *
 * A key always lands on the same object (its hash picks the shard), so each key's log is
 * exact and atomic; different keys spread over `shards` objects, so one object is not every
 * client's bottleneck. Only the SHA-256 of a key is sent or stored, never the key itself.
 * @module
 */
import { sha256Hex } from "../../../api/signing.js";
import type { Limiter } from "./limiter.js";
import type { RateLimiter } from "./rate-limiter-object.js";

/** Objects the keys spread over. Changing it moves keys to fresh logs once (a brief reset). */
export const RATE_LIMIT_SHARDS_DEFAULT = 16;

export interface DurableObjectLimiterOptions {
  namespace: DurableObjectNamespace<RateLimiter>;
  shards?: number;
}

/**
 * @example const limiter = durableObjectLimiter({ namespace: env.RATE_LIMITERS });
 *          await limiter.limit(`tasks:${keyId}`, { limit: 10, windowMs: 60_000 });
 */
export function durableObjectLimiter(options: DurableObjectLimiterOptions): Limiter {
  const shards = options.shards ?? RATE_LIMIT_SHARDS_DEFAULT;
  return {
    async limit(key, limitOptions) {
      const hashed = await sha256Hex(key);
      const shard = parseInt(hashed.slice(0, 8), 16) % shards;
      const stub = options.namespace.get(options.namespace.idFromName(`rate-limit-shard-${shard}`));
      return stub.limit(hashed, limitOptions);
    },
  };
}
