/**
 * The Upstash Redis client the limiter is given, tuned for a decision on the request path.
 *
 * - A short timeout (`AbortSignal.timeout`, fresh per request): a slow Redis must cost a
 *   request milliseconds, not seconds; the caller then applies its fail-open/closed policy.
 * - One retry, immediately, for a dropped connection — inside the same deadline.
 * - No auto-pipelining: it batches commands of concurrent requests into one HTTP call, and a
 *   Worker must not settle one request's promise from another request's I/O.
 * @module
 */
import { Redis } from "@upstash/redis/cloudflare";

export interface RedisClientOptions {
  url: string;
  token: string;
  timeoutMs: number;
}

export function redisClient(options: RedisClientOptions): Redis {
  return new Redis({
    url: options.url,
    token: options.token,
    enableAutoPipelining: false,
    enableTelemetry: false,
    retry: { retries: 1, backoff: () => 0 },
    signal: () => AbortSignal.timeout(options.timeoutMs),
  });
}
