/**
 * The limiter contract every rate-limit backend implements: an exact sliding-window log.
 *
 * A request is admitted when fewer than `limit` admitted requests fall in the last `windowMs`
 * (a request at time t counts during [t, t + windowMs)). Refused requests are not logged, so a
 * client that keeps hammering still gets capacity back as its old requests age out. A request
 * may spend several windows of one owner at once (`limitAll`: a key's `requests` and `tasks`
 * windows on task creation): one round trip, admitted only when every window has room, and
 * then logged in all of them; refused, it is logged in none. An admitted request can be taken
 * back (`release`): its entry leaves every window it was logged in, as if it had never been
 * admitted — how a request the route then refuses (a 4xx) gives back what it spent. Backends:
 * `upstash-limiter.ts` (Redis sorted set, one Lua round trip) and `durable-object-limiter.ts`
 * (a SQLite-backed Durable Object); both pass `tests/rate-limit/limiter-contract.ts`.
 * @module
 */

/** One decision's parameters. */
export interface LimitOptions {
  /** Requests admitted per window; at least 1. */
  limit: number;
  windowMs: number;
  /**
   * 1 (default) logs the request when admitted; 0 only looks (a peek: "would one more be
   * admitted?"), which is how the auth-failure guard checks an IP without counting anything.
   */
  cost?: 0 | 1;
}

/** What a backend answers. Times are measured on the backend's clock (Redis `TIME`, the object's clock). */
export interface LimitResult {
  allowed: boolean;
  limit: number;
  /** Admissions left in the window after this decision. */
  remaining: number;
  /** Milliseconds until every request now in the window has aged out (the quota is whole again); 0 when none are. */
  resetMs: number;
  /** Whole seconds until one more request would be admitted: 0 when this one was, else ≥ 1. */
  retryAfterSeconds: number;
  /**
   * The id this request was logged under in this window (random, unique per request); absent
   * when nothing was logged (refused, or a peek). Handed to `release` to take the request back.
   */
  entry?: string;
}

/** One logged entry to take back: the window's key and the entry's id (`LimitResult.entry`). */
export interface Release {
  key: string;
  entry: string;
}

/** One window a request spends: its key and its quota. */
export interface WindowCheck {
  key: string;
  options: LimitOptions;
}

export interface Limiter {
  /** Decides one request for `key` (any string: backends store only its SHA-256). */
  limit(key: string, options: LimitOptions): Promise<LimitResult>;
  /**
   * Decides one request against several windows in one atomic step. Each result's `allowed`
   * says whether its window had room; the request is admitted only when all did, and only
   * then logged (in every window with cost 1). `group` names the windows' owner (an API key
   * id): backends that spread keys over shards keep a group's windows together, so a window
   * must always be asked about under the same group — `limit(key)` is the group `key`.
   */
  limitAll(group: string, checks: readonly WindowCheck[]): Promise<LimitResult[]>;
  /**
   * Takes back admitted requests: removes exactly the entries named (one round trip), from
   * windows asked about under `group`. An entry already aged out, or released before, is
   * skipped; no other entry is touched, so a release can never give back more than was spent.
   */
  release(group: string, entries: readonly Release[]): Promise<void>;
}

/**
 * Builds the result from a window's summary after this decision: how many requests it holds,
 * the newest one's time, and the time of the one whose ageing-out admits the next request.
 * The one place the arithmetic lives, shared by both backends.
 */
export function resultFromWindow(input: {
  allowed: boolean;
  limit: number;
  windowMs: number;
  now: number;
  count: number;
  newest: number | null;
  blocking: number | null;
}): LimitResult {
  const { allowed, limit, windowMs, now, count, newest, blocking } = input;
  const resetMs = newest === null ? 0 : Math.max(0, newest + windowMs - now);
  const retryAfterSeconds = allowed ? 0 : Math.max(1, Math.ceil(((blocking ?? now) + windowMs - now) / 1_000));
  return { allowed, limit, remaining: Math.max(0, limit - count), resetMs, retryAfterSeconds };
}

/** Index, in the ascending log, of the entry that must age out before one more fits. */
export function blockingIndex(count: number, limit: number): number {
  return Math.max(0, count - limit);
}
