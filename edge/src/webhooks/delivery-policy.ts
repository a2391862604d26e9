/**
 * What an attempt's answer means for its delivery, as a pure function.
 *
 * Only a 2xx delivers. A 410 Gone means the receiver retired the endpoint: no more attempts.
 * Redirects are not followed (a redirect could point anywhere, including places the
 * callback-URL check would refuse) and count as failures. Everything else — other statuses,
 * timeouts, refused connections — is retried on the schedule, and a `Retry-After` (429, 503)
 * can only push the next attempt later, never sooner. A URL the edge's policy now refuses is
 * a failure no retry can fix.
 * @module
 */
import { delayBeforeAttempt } from "./retry-schedule.js";

/** A receiver may ask for a pause with `Retry-After`, but not for more than a day. */
export const RETRY_AFTER_MAX_MS = 86_400_000;

/** What happened when the edge sent one attempt. */
export interface AttemptResult {
  /** The HTTP status; null when no response came. */
  status: number | null;
  latencyMs: number | null;
  /** Why it failed, for people; null on a 2xx. */
  error: string | null;
  /** The wait a `Retry-After` header asked for, in ms. */
  retryAfterMs: number | null;
  responseExcerpt: string | null;
  /** Set when the edge refused to send at all (the URL is no longer allowed). */
  refused?: boolean;
}

export type AttemptVerdict = { outcome: "delivered" } | { outcome: "gone" } | { outcome: "failed" } | { outcome: "retry"; nextAttemptAt: number };

/**
 * Judges attempt `attemptNumber` (1-based) of a series that finished at `now`: delivered,
 * gone, retried at a time, or failed for good (the schedule is used up).
 */
export function judgeAttempt(
  result: AttemptResult,
  input: { attemptNumber: number; schedule: readonly number[]; jitter: number; now: number; random: () => number },
): AttemptVerdict {
  if (result.status !== null && result.status >= 200 && result.status < 300) return { outcome: "delivered" };
  if (result.status === 410) return { outcome: "gone" };
  if (result.refused) return { outcome: "failed" };
  const delay = delayBeforeAttempt(input.schedule, input.attemptNumber + 1, input.jitter, input.random);
  if (delay === null) return { outcome: "failed" };
  const wait = Math.max(delay, Math.min(result.retryAfterMs ?? 0, RETRY_AFTER_MAX_MS));
  return { outcome: "retry", nextAttemptAt: input.now + wait };
}

/** A `Retry-After` header (seconds or an HTTP date) as a wait in ms from `now`; null if absent or unreadable. */
export function parseRetryAfter(header: string | null, now: number): number | null {
  if (!header) return null;
  const text = header.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1_000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** The message of an attempt that got a status but did not deliver. */
export function statusError(status: number, location: string | null): string {
  if (status >= 300 && status < 400)
    return `redirect ${status} not followed${location ? ` (Location: ${location.slice(0, 200)})` : ""}; point callback_url at the final URL`;
  if (status === 410) return "410 Gone: the receiver retired this endpoint; no more attempts";
  return `receiver answered ${status}`;
}
