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
import { resultFromWindow, type Limiter, type LimitResult, type WindowCheck } from "./limiter.js";
import { scriptSha1, SLIDING_WINDOW_LUA } from "./sliding-window-script.js";

export const UPSTASH_KEY_PREFIX_DEFAULT = "codeforge:rl:";

export interface UpstashLimiterOptions {
  redis: Pick<Redis, "evalsha" | "eval">;
  /** Namespaces the keys, e.g. per deployment sharing one database. */
  prefix?: string;
}

/** `now`, then `allowed, count, newest, blocking` per window (see `sliding-window-script.ts`). */
type ScriptReply = number[];

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

  async function limitAll(checks: readonly WindowCheck[]): Promise<LimitResult[]> {
    const keys = await Promise.all(checks.map(async ({ key }) => prefix + (await sha256Hex(key))));
    // One request's cost is the same in every window it spends.
    const cost = checks.some(({ options }) => (options.cost ?? 1) === 1) ? 1 : 0;
    const args = [cost, crypto.randomUUID(), ...checks.flatMap(({ options }) => [options.limit, options.windowMs])];
    const [now, ...windows] = await run(keys, args);
    return checks.map(({ options: { limit, windowMs } }, i) => {
      const [allowed, count, newest, blocking] = windows.slice(4 * i, 4 * i + 4) as [number, number, number, number];
      return resultFromWindow({
        allowed: allowed === 1,
        limit,
        windowMs,
        now: now!,
        count,
        newest: newest < 0 ? null : newest,
        blocking: blocking < 0 ? null : blocking,
      });
    });
  }

  return {
    async limit(key, options) {
      return (await limitAll([{ key, options }]))[0]!;
    },
    // Redis keys stand alone: a group needs no placement here.
    limitAll: (_group, checks) => limitAll(checks),
  };
}
