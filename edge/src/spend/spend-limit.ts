/**
 * The monthly spend limit at submission: a key whose tasks have spent its `monthly_spend_usd`
 * this month (UTC) may not submit more work (new tasks, follow-ups) until the month ends. Work
 * already submitted runs on, so the month's spend can end above the limit by what was running.
 * Keys without the limit (the bootstrap admin key among them) never ask their meter.
 * @module
 */
import type { KeyLimits } from "#api/keys.js";
import type { Env } from "../env.js";
import { spendMeterOf, type MonthSpend } from "./spend-meter-object.js";

/** A refusal to hand to the caller: why the key may not submit now. */
export interface SpendRefusal {
  code: "spend_limit_reached";
  message: string;
}

/** Dollars as people read them: no float noise, at most six decimals. */
export function formatUsd(usd: number): string {
  return `$${Number(usd.toFixed(6))}`;
}

/** Why `spend` leaves no room under `limitUsd`, or null while it does. */
export function spendRefusal(spend: MonthSpend, limitUsd: number): SpendRefusal | null {
  if (spend.spentUsd < limitUsd) return null;
  return {
    code: "spend_limit_reached",
    message:
      `this API key's tasks spent ${formatUsd(spend.spentUsd)} in ${spend.month} (UTC), reaching its monthly_spend_usd of ${formatUsd(limitUsd)}; ` +
      `new tasks and follow-ups are refused until the month ends at ${new Date(spend.resetsAt).toISOString()}`,
  };
}

/** Asks the key's meter, when the key has a monthly limit, whether it may submit at `now`. */
export async function checkSpendLimit(env: Env, key: { keyId: string; limits?: KeyLimits }, now: number): Promise<SpendRefusal | null> {
  const limit = key.limits?.monthly_spend_usd;
  if (limit === undefined) return null;
  return spendRefusal(await spendMeterOf(env, key.keyId).spend(now), limit);
}
