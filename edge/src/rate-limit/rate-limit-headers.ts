/**
 * The `RateLimit-Policy` and `RateLimit` fields of draft-ietf-httpapi-ratelimit-headers (-10):
 * structured-field lists with one item per policy, e.g.
 *
 *     RateLimit-Policy: "requests";q=600;w=60, "tasks";q=10;w=60
 *     RateLimit: "requests";r=597;t=60, "tasks";r=3;t=42
 *
 * `q` is the quota and `w` the window in seconds; `r` is what remains and `t` the seconds
 * until the quota is whole again (every counted request has left the sliding window).
 * `Retry-After` on a 429 is the sooner moment when one more request fits.
 * @module
 */
import type { LimitResult } from "./limiter.js";

/** Policy names are fixed tokens of ours, so they never need escaping inside the sf-string. */
export function policyItem(name: string, limit: number, windowMs: number): string {
  return `"${name}";q=${limit};w=${Math.ceil(windowMs / 1_000)}`;
}

export function limitItem(name: string, result: Pick<LimitResult, "remaining" | "resetMs">): string {
  return `"${name}";r=${result.remaining};t=${Math.ceil(result.resetMs / 1_000)}`;
}
