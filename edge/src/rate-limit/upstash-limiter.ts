/**
 * The limiter on Upstash Redis: one sorted set per key, decided by `sliding-window-script.ts`
 * in one round trip (`EVALSHA`, falling back to `EVAL` when Redis answers `NOSCRIPT` — after a
 * restart or a `SCRIPT FLUSH` — which also loads the script for next time).
 *
 * Keys are `<prefix><sha256(key)>`: a key may contain an API key id or a client IP, and
 * neither is ever written to Redis. The client it is handed should carry a short timeout
 * (see `redis-client.ts`); what to do when Redis fails is the caller's policy, not this file's.
 * @module
 */
import type { Redis } from "@upstash/redis/cloudflare";
import { sha256Hex } from "../../../api/signing.js";
import type { Limiter } from "./limiter.js";
import { resultFromWindow } from "./limiter.js";
import { scriptSha1, SLIDING_WINDOW_LUA } from "./sliding-window-script.js";

export const UPSTASH_KEY_PREFIX_DEFAULT = "codeforge:rl:";

export interface UpstashLimiterOptions {
  redis: Pick<Redis, "evalsha" | "eval">;
  /** Namespaces the keys, e.g. per deployment sharing one database. */
  prefix?: string;
}

type ScriptReply = [allowed: number, count: number, now: number, newest: number, blocking: number];

/**
 * @example const limiter = upstashLimiter({ redis: new Redis({ url, token }) });
 *          await limiter.limit(`tasks:${keyId}`, { limit: 10, windowMs: 60_000 });
 */
export function upstashLimiter(options: UpstashLimiterOptions): Limiter {
  const prefix = options.prefix ?? UPSTASH_KEY_PREFIX_DEFAULT;
  const sha = scriptSha1(SLIDING_WINDOW_LUA);

  async function run(keys: string[], args: (string | number)[]): Promise<ScriptReply> {
    try {
      return await options.redis.evalsha<(string | number)[], ScriptReply>(await sha, keys, args);
    } catch (err) {
      if (!String(err instanceof Error ? err.message : err).includes("NOSCRIPT")) throw err;
      return options.redis.eval<(string | number)[], ScriptReply>(SLIDING_WINDOW_LUA, keys, args);
    }
  }

  return {
    async limit(key, { limit, windowMs, cost = 1 }) {
      const redisKey = prefix + (await sha256Hex(key));
      const [allowed, count, now, newest, blocking] = await run([redisKey], [limit, windowMs, cost, crypto.randomUUID()]);
      return resultFromWindow({
        allowed: allowed === 1,
        limit,
        windowMs,
        now,
        count,
        newest: newest < 0 ? null : newest,
        blocking: blocking < 0 ? null : blocking,
      });
    },
  };
}
