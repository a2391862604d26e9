/**
 * `SpendMeter`: one Durable Object per API key, adding up what the key's tasks spend per
 * calendar month (UTC), for `KeyLimits.monthly_spend_usd`.
 *
 * Per key rather than in the key store: the key store is one object for the whole edge, and
 * spend is written at the end of every attempt and read at every submission of a key with a
 * limit. A meter per key puts that traffic where the key's own work is, so no single object
 * carries every task, and a key without a limit never calls its meter at submission.
 *
 * Task objects send each ended attempt's charge here (see `task/attempt-usage.ts`); a charge
 * names its attempt, so one sent again after a lost answer is counted once.
 * @module
 */
import type { Env } from "../env.js";
import { SqlObject } from "../sql/sql-object.js";
import { monthOf, nextMonthStart } from "./month.js";
import { addCharge, CHARGE_IDS_KEPT_MONTHS, monthSpend, MONTHS_KEPT, pruneSpend, SPEND_MIGRATIONS } from "./spend-store.js";

/** A key's spend in the month holding the time asked about. */
export interface MonthSpend {
  /** `YYYY-MM` (UTC). */
  month: string;
  spentUsd: number;
  /** When this month ends and its spend starts again from 0 (ms). */
  resetsAt: number;
}

export class SpendMeter extends SqlObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, SPEND_MIGRATIONS);
  }

  /** Counts one attempt's cost in `month` (the month it ended in); a charge id already counted is ignored. */
  async charge(input: { id: string; month: string; costUsd: number }): Promise<{ counted: boolean }> {
    const now = Date.now();
    const counted = addCharge(this.sql, { ...input, now });
    if (counted) pruneSpend(this.sql, monthsBefore(now, CHARGE_IDS_KEPT_MONTHS - 1), monthsBefore(now, MONTHS_KEPT - 1));
    return { counted };
  }

  /** The spend of the month holding `now` (the caller's clock, so the answer and its check agree). */
  async spend(now: number): Promise<MonthSpend> {
    const month = monthOf(now);
    return { month, spentUsd: monthSpend(this.sql, month), resetsAt: nextMonthStart(now) };
  }
}

/** `YYYY-MM` of the month `n` months before the one holding `ms`. */
function monthsBefore(ms: number, n: number): string {
  const d = new Date(ms);
  return monthOf(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - n, 1));
}

/** The spend meter of key `keyId` (`admin` for the bootstrap key). */
export function spendMeterOf(env: Env, keyId: string) {
  return env.SPEND_METERS.get(env.SPEND_METERS.idFromName(keyId));
}
