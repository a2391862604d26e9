/**
 * Exponential backoff with full jitter, and a sleep that an AbortSignal can cut short.
 *
 * Every retry loop in the runner (lease polling, event batches, completion) waits through
 * here, so a fleet of runners that lost the edge at once does not return in lockstep, and
 * shutdown never waits out a long backoff.
 * @module
 */

export interface BackoffPolicy {
  /** Ceiling of the first delay. */
  baseMs: number;
  /** Largest delay, however many failures came before. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 200, maxMs: 10_000 };

/** Delay before retry number `failures` (1 = first retry): uniform in [ceiling/2, ceiling]. */
export function backoffDelayMs(failures: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
