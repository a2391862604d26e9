/**
 * Integration: the `RateLimiter` Durable Object backend — the limiter contract on a fake
 * clock, then what is particular to it: keys spread over shards, only hashes stored, and
 * expired rows swept by its alarm.
 */
import { env, listDurableObjectIds, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "#api/signing.js";
import { durableObjectLimiter } from "../../edge/src/rate-limit/durable-object-limiter.js";
import { limiterContract } from "../rate-limit/limiter-contract.js";
import { advanceClock } from "./clock.js";

limiterContract({
  name: "Durable Object",
  limiter: () => {
    advanceClock(0); // freeze the clock: every figure is then exact
    return durableObjectLimiter({ namespace: env.RATE_LIMITERS });
  },
  advance: async (ms) => advanceClock(ms),
  slackMs: 0,
  slideWindowMs: 60_000,
});

describe("RateLimiter Durable Object", () => {
  it("answers Retry-After to the second on a minute window (fake clock, exact)", async () => {
    const limiter = durableObjectLimiter({ namespace: env.RATE_LIMITERS });
    const key = `exact:${crypto.randomUUID()}`;
    advanceClock(0);
    for (let i = 0; i < 10; i++) await limiter.limit(key, { limit: 10, windowMs: 60_000 });
    advanceClock(17_500);
    expect(await limiter.limit(key, { limit: 10, windowMs: 60_000 })).toEqual({
      allowed: false,
      limit: 10,
      remaining: 0,
      resetMs: 42_500,
      retryAfterSeconds: 43,
    });
    advanceClock(42_499);
    expect((await limiter.limit(key, { limit: 10, windowMs: 60_000 })).retryAfterSeconds).toBe(1);
    advanceClock(1);
    expect(await limiter.limit(key, { limit: 10, windowMs: 60_000 })).toMatchObject({ allowed: true, remaining: 9 }); // all ten left together
  });

  it("spreads keys over several objects and stores only their SHA-256", async () => {
    const namespace = env.RATE_LIMITERS;
    const limiter = durableObjectLimiter({ namespace, shards: 4 });
    const keys = Array.from({ length: 40 }, (_, i) => `requests:secret-key-${i}-${crypto.randomUUID()}`);
    await Promise.all(keys.map((key) => limiter.limit(key, { limit: 5, windowMs: 60_000 })));
    const ids = await listDurableObjectIds(namespace);
    const shardIds = [0, 1, 2, 3].map((n) => namespace.idFromName(`rate-limit-shard-${n}`).toString());
    expect(shardIds.filter((id) => ids.some((x) => x.toString() === id)).length).toBe(4);

    const stored: string[] = [];
    for (const n of [0, 1, 2, 3]) {
      const stub = namespace.get(namespace.idFromName(`rate-limit-shard-${n}`));
      stored.push(
        ...(await runInDurableObject(stub, (_obj, state) =>
          state.storage.sql
            .exec<{ key: string }>("SELECT DISTINCT key FROM hit")
            .toArray()
            .map((r) => r.key),
        )),
      );
    }
    const hashes = await Promise.all(keys.map((k) => sha256Hex(k)));
    for (const hash of hashes) expect(stored).toContain(hash);
    for (const key of stored) {
      expect(key).toMatch(/^[0-9a-f]{64}$/);
      expect(keys.some((k) => key.includes(k) || key.includes("secret-key"))).toBe(false);
    }
  });

  it("sweeps rows whose window has passed, so no key outlives it", async () => {
    const namespace = env.RATE_LIMITERS;
    const limiter = durableObjectLimiter({ namespace, shards: 1 });
    const key = `sweep:${crypto.randomUUID()}`;
    await limiter.limit(key, { limit: 5, windowMs: 60_000 });
    const stub = namespace.get(namespace.idFromName("rate-limit-shard-0"));
    const hashed = await sha256Hex(key);
    const rowsOf = () =>
      runInDurableObject(stub, (_obj, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM hit WHERE key = ?", hashed).one().n);
    expect(await rowsOf()).toBe(1);
    advanceClock(60_001);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await rowsOf()).toBe(0);
    // Whatever other tests left on this shard is still inside its window.
    const now = Date.now();
    expect(
      await runInDurableObject(
        stub,
        (_obj, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM hit WHERE expires_at <= ?", now).one().n,
      ),
    ).toBe(0);
  });
});
