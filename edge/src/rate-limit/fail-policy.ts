/**
 * What a limit decision becomes when the backend cannot answer (Redis unreachable or slow past
 * its timeout, a rate-limit object overloaded).
 *
 * Per policy (`RATE_LIMIT_FAIL_CLOSED`, default `tasks`): a fail-closed policy refuses the
 * request with 503 `unavailable` and `Retry-After`, because creating tasks spends runner time
 * and AI-provider money that must stay bounded; every other policy fails open, because an
 * outage of the limiter should not become an outage of reads, streams or authentication (API
 * keys are long random secrets: the per-IP guard is defence in depth, not what stops guessing).
 * Every failure is logged with the policy and the decision taken, never with the key.
 * @module
 */
import { ApiError } from "../api-error.js";
import type { RateLimitPolicyName } from "../env.js";
import type { Limiter, LimitOptions, LimitResult } from "./limiter.js";
import { createLogger, type Logger } from "../log.js";

/** A decision, and whether it was made without the backend (fail-open: nothing is known). */
export interface Decision extends LimitResult {
  degraded: boolean;
}

/** How long a client refused by a fail-closed policy is asked to wait. */
export const FAIL_CLOSED_RETRY_AFTER_SECONDS = 5;

export interface DecideInput {
  limiter: Limiter;
  policy: RateLimitPolicyName;
  key: string;
  options: LimitOptions;
  failClosed: ReadonlySet<RateLimitPolicyName>;
  /** Where the backend failure is logged (the request's logger); a default JSON logger otherwise. */
  log?: Logger;
}

const fallbackLog = createLogger({ level: "info", format: "json", sampleRatio: 1 });

export async function decide(input: DecideInput): Promise<Decision> {
  try {
    return { ...(await input.limiter.limit(input.key, input.options)), degraded: false };
  } catch (err) {
    const closed = input.failClosed.has(input.policy);
    (input.log ?? fallbackLog).warn("rate limiter unavailable", {
      policy: input.policy,
      decision: closed ? "fail_closed" : "fail_open",
      error: String(err instanceof Error ? err.message : err).slice(0, 300),
    });
    if (closed) {
      throw new ApiError("unavailable", "rate limiting is temporarily unavailable; try again shortly", undefined, {
        "Retry-After": String(FAIL_CLOSED_RETRY_AFTER_SECONDS),
      });
    }
    const { limit } = input.options;
    return { allowed: true, limit, remaining: limit, resetMs: 0, retryAfterSeconds: 0, degraded: true };
  }
}
