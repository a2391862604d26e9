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
import type { RateLimitPolicyName } from "../settings/rate-limit-settings.js";
import type { Limiter, LimitOptions, LimitResult, WindowCheck } from "./limiter.js";
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
  const [decision] = await decideAll({ ...input, group: input.key, policies: [{ policy: input.policy, key: input.key, options: input.options }] });
  return decision!;
}

export interface DecideAllInput extends Omit<DecideInput, "policy" | "key" | "options"> {
  /** The windows' owner (see `Limiter.limitAll`). */
  group: string;
  policies: readonly (WindowCheck & { policy: RateLimitPolicyName })[];
}

/**
 * Several policies of one owner in one backend call. When the backend fails, the request is
 * refused (503) if any of its policies fails closed, and otherwise admitted in all of them.
 */
export async function decideAll(input: DecideAllInput): Promise<Decision[]> {
  try {
    const results = await input.limiter.limitAll(input.group, input.policies);
    return results.map((result) => ({ ...result, degraded: false }));
  } catch (err) {
    const closed = input.policies.some(({ policy }) => input.failClosed.has(policy));
    for (const { policy } of input.policies) {
      (input.log ?? fallbackLog).warn("rate limiter unavailable", {
        policy,
        decision: input.failClosed.has(policy) ? "fail_closed" : "fail_open",
        error: String(err instanceof Error ? err.message : err).slice(0, 300),
      });
    }
    if (closed) {
      throw new ApiError("unavailable", "rate limiting is temporarily unavailable; try again shortly", undefined, {
        "Retry-After": String(FAIL_CLOSED_RETRY_AFTER_SECONDS),
      });
    }
    return input.policies.map(({ options: { limit } }) => ({ allowed: true, limit, remaining: limit, resetMs: 0, retryAfterSeconds: 0, degraded: true }));
  }
}
