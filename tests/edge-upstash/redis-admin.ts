/**
 * Looking into the Redis behind the shim from a test, as an operator would.
 * @module
 */
import { Redis } from "@upstash/redis/cloudflare";
import { inject } from "vitest";

/** A plain client of the shim (no auto-pipelining, so each call is its own request). */
export function adminRedis(): Redis {
  return new Redis({ url: inject("upstashUrl"), token: inject("upstashToken"), enableAutoPipelining: false });
}

/** Every key in the database, by SCAN (never KEYS). */
export async function scanAll(redis: Redis): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, { count: 1_000 });
    keys.push(...batch);
    cursor = String(next);
  } while (cursor !== "0");
  return keys;
}
