/**
 * When a webhook delivery is attempted: a schedule of delays, each one from the previous
 * attempt, moved a little at random.
 *
 * The default spreads ten attempts over about three days (immediately, 5 s, 5 min, 30 min,
 * 2 h, 5 h, 10 h, 14 h, 20 h, 24 h), the shape Standard Webhooks senders use: quick retries
 * for a blip, then hours apart for an outage. Operators set their own with
 * `WEBHOOK_RETRY_SCHEDULE_SECONDS`; tests set a fast one, so every retry runs the same code
 * as in production, only sooner. Jitter keeps the retries of many tasks that failed together
 * (a receiver's outage) from arriving together when it comes back.
 * @module
 */

/** Seconds before attempt 1, 2, 3…; "0" is "at once". */
export const DEFAULT_RETRY_SCHEDULE_SECONDS = "0,5,300,1800,7200,18000,36000,50400,72000,86400";

/** Bounds the attempts (and recorded attempt rows) of one series. */
export const RETRY_SCHEDULE_MAX_ATTEMPTS = 30;

/** No single wait longer than a week: a delivery that old is of no use to anyone. */
export const RETRY_DELAY_MAX_SECONDS = 604_800;

/** Parses a comma-separated list of seconds into milliseconds, or says what is wrong with it. */
export function parseRetrySchedule(text: string): number[] | string {
  const parts = text.split(",").map((p) => p.trim());
  if (parts.length === 0 || parts.length > RETRY_SCHEDULE_MAX_ATTEMPTS) {
    return `WEBHOOK_RETRY_SCHEDULE_SECONDS must list 1 to ${RETRY_SCHEDULE_MAX_ATTEMPTS} delays`;
  }
  const delays: number[] = [];
  for (const part of parts) {
    const seconds = /^\d+(\.\d+)?$/.test(part) ? Number(part) : NaN;
    if (!(seconds >= 0 && seconds <= RETRY_DELAY_MAX_SECONDS)) {
      return `WEBHOOK_RETRY_SCHEDULE_SECONDS: ${JSON.stringify(part)} is not a number of seconds from 0 to ${RETRY_DELAY_MAX_SECONDS}`;
    }
    delays.push(Math.round(seconds * 1_000));
  }
  return delays;
}

/**
 * The wait before attempt `attemptNumber` (1-based) of a series, jittered by up to
 * ± `jitter` of itself; null once the schedule is used up.
 */
export function delayBeforeAttempt(schedule: readonly number[], attemptNumber: number, jitter: number, random: () => number): number | null {
  const base = schedule[attemptNumber - 1];
  if (base === undefined) return null;
  return Math.max(0, Math.round(base * (1 + jitter * (2 * random() - 1))));
}
