/**
 * Integration: the Upstash Redis backend, from workerd, against a real `redis-server` behind
 * the Upstash REST shim — the limiter contract on Redis `TIME`, then what is particular to
 * Redis: the `EVALSHA`→`EVAL` fallback, key names and TTLs, and a bounded failure when Redis
 * is unreachable.
 */
import { beforeAll, describe, expect, inject, it } from "vitest";
import { redisClient } from "../../edge/src/rate-limit/redis-client.js";
import { RELEASE_LUA, scriptSha1, SLIDING_WINDOW_LUA } from "../../edge/src/rate-limit/sliding-window-script.js";
import { upstashLimiter, UPSTASH_KEY_PREFIX_DEFAULT } from "../../edge/src/rate-limit/upstash-limiter.js";
import { limiterContract } from "../rate-limit/limiter-contract.js";
import { adminRedis, scanAll } from "./redis-admin.js";

const admin = adminRedis;
const limiter = () => upstashLimiter({ redis: redisClient({ url: inject("upstashUrl"), token: inject("upstashToken"), timeoutMs: 2_000 }) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  await admin().flushdb();
});

limiterContract({
  name: "Upstash Redis",
  limiter,
  advance: async (ms) => void (await sleep(ms)),
  slackMs: 400,
  slideWindowMs: 3_000,
});

describe("Upstash limiter on Redis", () => {
  it("falls back to EVAL when Redis has no copy of the script, and uses EVALSHA again after", async () => {
    const redis = admin();
    await redis.scriptFlush();
    expect(await redis.scriptExists(await scriptSha1(SLIDING_WINDOW_LUA))).toEqual([0]);
    const key = `noscript:${crypto.randomUUID()}`;
    const first = await limiter().limit(key, { limit: 2, windowMs: 60_000 });
    expect(first).toMatchObject({ allowed: true, remaining: 1 });
    // EVAL loaded it, so the next call's EVALSHA finds it.
    expect(await redis.scriptExists(await scriptSha1(SLIDING_WINDOW_LUA))).toEqual([1]);
    expect(await limiter().limit(key, { limit: 2, windowMs: 60_000 })).toMatchObject({ allowed: true, remaining: 0 });
  });

  it("releases through EVAL too when Redis has lost its scripts, removing exactly that entry", async () => {
    const key = `noscript-release:${crypto.randomUUID()}`;
    const first = await limiter().limit(key, { limit: 2, windowMs: 60_000 });
    await limiter().limit(key, { limit: 2, windowMs: 60_000 });
    await admin().scriptFlush();
    await limiter().release(key, [{ key, entry: first.entry! }]);
    expect(await admin().scriptExists(await scriptSha1(RELEASE_LUA))).toEqual([1]);
    expect(await limiter().limit(key, { limit: 2, windowMs: 60_000 })).toMatchObject({ allowed: true, remaining: 0 });
  });

  it("names keys by SHA-256 only and gives every key a TTL no longer than its window", async () => {
    const redis = admin();
    await redis.flushdb();
    const secrets = ["cf_live_supersecret_token_0123456789", "203.0.113.77"];
    await limiter().limit(`requests:${secrets[0]}`, { limit: 5, windowMs: 60_000 });
    await limiter().limit(`auth:${secrets[1]}`, { limit: 5, windowMs: 3_600_000 });
    await limiter().limit(`auth-peek:${secrets[1]}`, { limit: 5, windowMs: 60_000, cost: 0 }); // a peek writes nothing
    const keys = await scanAll(redis);
    expect(keys).toHaveLength(2);
    for (const key of keys) {
      expect(key).toMatch(new RegExp(`^${UPSTASH_KEY_PREFIX_DEFAULT}[0-9a-f]{64}$`));
      for (const secret of secrets) expect(key).not.toContain(secret);
      const pttl = await redis.pttl(key);
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(3_600_000);
    }
  });

  it("fails within its timeout when Redis cannot be reached, instead of hanging the request", async () => {
    const dead = upstashLimiter({ redis: redisClient({ url: "http://127.0.0.1:9", token: "x", timeoutMs: 300 }) });
    const started = Date.now();
    await expect(dead.limit("k", { limit: 1, windowMs: 1_000 })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
