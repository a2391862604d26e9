/**
 * `RateLimiter`: the Durable Object backend of the limiter, used when no Upstash Redis is
 * configured (`wrangler dev`, self-hosting without Redis). Keys are spread over several
 * objects by `durable-object-limiter.ts`, so no single object carries every client.
 *
 * A thin shell: decisions are `sliding-window-log.ts` over this object's SQLite; an alarm
 * sweeps expired rows so nothing outlives its window.
 * @module
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";
import { migrate } from "../sql/migrations.js";
import type { LimitResult, Release, WindowCheck } from "./limiter.js";
import { RATE_LIMIT_MIGRATIONS, releaseEntries, slidingWindowLimitAll, sweepExpired } from "./sliding-window-log.js";

/** Expired rows are swept at most this often, so a busy object is not woken for each expiry. */
const SWEEP_MIN_INTERVAL_MS = 30_000;

export class RateLimiter extends DurableObject<Env> {
  private alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage.sql, RATE_LIMIT_MIGRATIONS);
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** One decision over several windows, atomically (see `Limiter.limitAll`); keys already hashed. */
  async limitAll(checks: readonly WindowCheck[]): Promise<LimitResult[]> {
    const now = Date.now();
    const results = slidingWindowLimitAll(this.ctx.storage.sql, now, checks);
    const longest = Math.max(...checks.map((c) => c.options.windowMs));
    if (this.alarmAt === null) this.armSweep(now + Math.max(longest, SWEEP_MIN_INTERVAL_MS));
    return results;
  }

  /** Takes back admitted requests' entries (see `Limiter.release`); keys already hashed. */
  async release(entries: readonly Release[]): Promise<void> {
    releaseEntries(this.ctx.storage.sql, entries);
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const now = Date.now();
    const next = sweepExpired(this.ctx.storage.sql, now);
    if (next !== null) this.armSweep(Math.max(next, now + SWEEP_MIN_INTERVAL_MS));
  }

  private armSweep(at: number): void {
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }
}
