/**
 * The limiter over `RateLimiter` Durable Objects, sharded by the key's hash.
 *
 * A key always lands on the same object (its group's hash picks the shard: a lone key is its
 * own group), so each key's log is exact and atomic, and the windows of one group (a key's
 * `requests` and `tasks`) are decided together in one call; different groups spread over
 * `shards` objects, so one object is not every client's bottleneck. A release goes to the
 * group's object, where its entries were logged. Only SHA-256 hashes of keys and groups are
 * sent or stored, never the strings themselves.
 * @module
 */
import { sha256Hex } from "#api/signing.js";
import type { Limiter, LimitResult, Release, WindowCheck } from "./limiter.js";
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
  const shardOf = async (group: string) => {
    const shard = parseInt((await sha256Hex(group)).slice(0, 8), 16) % shards;
    return options.namespace.get(options.namespace.idFromName(`rate-limit-shard-${shard}`));
  };
  const hashed = (checks: readonly WindowCheck[]) => Promise.all(checks.map(async ({ key, options }) => ({ key: await sha256Hex(key), options })));
  async function limitAll(group: string, checks: readonly WindowCheck[]): Promise<LimitResult[]> {
    const [stub, hashedChecks] = await Promise.all([shardOf(group), hashed(checks)]);
    return stub.limitAll(hashedChecks);
  }
  async function release(group: string, entries: readonly Release[]): Promise<void> {
    if (entries.length === 0) return;
    const [stub, hashedEntries] = await Promise.all([
      shardOf(group),
      Promise.all(entries.map(async ({ key, entry }) => ({ key: await sha256Hex(key), entry }))),
    ]);
    await stub.release(hashedEntries);
  }
  return {
    // A lone key is its own group.
    limit: async (key, limitOptions) => (await limitAll(key, [{ key, options: limitOptions }]))[0]!,
    limitAll,
    release,
  };
}
