/**
 * The limiter on Upstash Redis: one sorted set per key, decided by `sliding-window-script.ts`
 * in one round trip (`EVALSHA`, falling back to `EVAL` when Redis answers `NOSCRIPT` — after a
 * restart or a `SCRIPT FLUSH` — which also loads the script for next time); a release is one
 * `ZREM` per window in one script, one round trip too.
 *
 * Keys are `<prefix><sha256(key)>`: a key may contain an API key id or a client IP, and
 * neither is ever written to Redis. The client it is handed should carry a short timeout
 * (see `redis-client.ts`); what to do when Redis fails is the caller's policy, not this file's.
 * @module
 */
import type { Redis } from "@upstash/redis/cloudflare";
import { sha256Hex } from "#api/signing.js";
import { resultFromWindow, type Limiter, type LimitResult, type Release, type WindowCheck } from "./limiter.js";
import { RELEASE_LUA, scriptSha1, SLIDING_WINDOW_LUA } from "./sliding-window-script.js";

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
  const shas = new Map([SLIDING_WINDOW_LUA, RELEASE_LUA].map((script) => [script, scriptSha1(script)]));
  const redisKey = async (key: string) => prefix + (await sha256Hex(key));

  async function run<Reply>(script: string, keys: string[], args: (string | number)[]): Promise<Reply> {
    try {
      return await options.redis.evalsha<(string | number)[], Reply>(await shas.get(script)!, keys, args);
    } catch (err) {
      if (!String(err instanceof Error ? err.message : err).includes("NOSCRIPT")) throw err;
      return options.redis.eval<(string | number)[], Reply>(script, keys, args);
    }
  }

  async function limitAll(checks: readonly WindowCheck[]): Promise<LimitResult[]> {
    const keys = await Promise.all(checks.map(({ key }) => redisKey(key)));
    // One request's cost is the same in every window it spends.
    const cost = checks.some(({ options }) => (options.cost ?? 1) === 1) ? 1 : 0;
    const entry = crypto.randomUUID();
    const args = [cost, entry, ...checks.flatMap(({ options }) => [options.limit, options.windowMs])];
    const [now, ...windows] = await run<ScriptReply>(SLIDING_WINDOW_LUA, keys, args);
    const admitted = cost === 1 && checks.every((_, i) => windows[4 * i] === 1);
    return checks.map(({ options: { limit, windowMs } }, i) => {
      const [allowed, count, newest, blocking] = windows.slice(4 * i, 4 * i + 4) as [number, number, number, number];
      const result = resultFromWindow({
        allowed: allowed === 1,
        limit,
        windowMs,
        now: now!,
        count,
        newest: newest < 0 ? null : newest,
        blocking: blocking < 0 ? null : blocking,
      });
      return admitted ? { ...result, entry } : result;
    });
  }

  async function release(entries: readonly Release[]): Promise<void> {
    if (entries.length === 0) return;
    const keys = await Promise.all(entries.map(({ key }) => redisKey(key)));
    await run<number>(
      RELEASE_LUA,
      keys,
      entries.map(({ entry }) => entry),
    );
  }

  return {
    async limit(key, options) {
      return (await limitAll([{ key, options }]))[0]!;
    },
    // Redis keys stand alone: a group needs no placement here.
    limitAll: (_group, checks) => limitAll(checks),
    release: (_group, entries) => release(entries),
  };
}
