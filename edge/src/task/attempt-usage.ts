/**
 * What each attempt of the task spent, kept as runner events arrive so nothing has to scan the
 * event log for it: one row per attempt with its latest `usage` event's totals, the cost its
 * result reported, and — once the attempt ended — what its API key is charged for it and
 * whether that charge still has to reach the key's spend meter (an outbox; see
 * `spend/spend-meter-object.ts`; `spend-charges.ts` sends them). Handed the object's `sql`,
 * nothing else.
 *
 * Two readers: the lease, which carries what earlier attempts of the iteration spent so the
 * runner's gateway counts it against the budget (`spentBefore`), and the monthly spend of the
 * key, charged once per attempt when it ends (`settleEndedAttempts`, `owedCharges`).
 * @module
 */
import type { UsageEvent } from "#api/stream-events.js";
import type { RunnerEvent } from "#api/stream-events.js";
import type { Sql } from "../sql/migrations.js";
import type { LifecycleState } from "./lifecycle.js";
import { monthOf } from "../spend/month.js";

/** When a charge could not reach the spend meter, the alarm tries again this much later. */
export const SPEND_RETRY_MS = 60_000;

/** An attempt's charge on its way to the key's spend meter. */
export interface OwedCharge {
  iteration: number;
  attempt: number;
  costUsd: number;
  /** `YYYY-MM` (UTC) of the attempt's end: the month it counts in, however late it arrives. */
  month: string;
}

/** The last `usage` event of a batch: events carry the attempt's running totals, so the last says all. */
export function lastUsage(events: readonly RunnerEvent[]): UsageEvent | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i]!;
    if (event.type === "usage") return event;
  }
  return null;
}

/** Tokens of a usage event: the four counts (input, output, cache read, cache write). */
export function usageTokens(usage: UsageEvent): number {
  return usage.input_tokens + usage.output_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens;
}

/** Records an attempt's latest usage totals (they replace the previous ones). */
export function recordUsage(sql: Sql, at: { iteration: number; attempt: number }, usage: UsageEvent): void {
  sql.exec(
    `INSERT INTO attempt_usage (iteration, attempt, tokens, cost_usd) VALUES (?, ?, ?, ?)
     ON CONFLICT (iteration, attempt) DO UPDATE SET tokens = excluded.tokens, cost_usd = excluded.cost_usd`,
    at.iteration,
    at.attempt,
    usageTokens(usage),
    usage.cost_usd,
  );
}

/** Records the cost an attempt's result reported (null: the result did not know it). */
export function recordResultCost(sql: Sql, at: { iteration: number; attempt: number }, costUsd: number | null): void {
  sql.exec(
    `INSERT INTO attempt_usage (iteration, attempt, result_cost_usd) VALUES (?, ?, ?)
     ON CONFLICT (iteration, attempt) DO UPDATE SET result_cost_usd = excluded.result_cost_usd`,
    at.iteration,
    at.attempt,
    costUsd,
  );
}

/**
 * What the attempts of `iteration` before `attempt` spent, by their last usage events (a null
 * cost counts 0): the lease of `attempt` carries it, so a budget holds across attempts.
 */
export function spentBefore(sql: Sql, iteration: number, attempt: number): { costUsd: number; tokens: number } {
  const row = sql
    .exec<{ cost: number | null; tokens: number | null }>(
      "SELECT SUM(COALESCE(cost_usd, 0)) AS cost, SUM(tokens) AS tokens FROM attempt_usage WHERE iteration = ? AND attempt < ?",
      iteration,
      attempt,
    )
    .one();
  return { costUsd: row.cost ?? 0, tokens: row.tokens ?? 0 };
}

/**
 * Fixes the charge of every attempt that has ended and has none yet: its result's cost, else its
 * last usage event's, else 0. An attempt is live only while the task is leased or running on
 * it; every other row belongs to an attempt that is over (attempt numbers are never reused, a
 * release too moves to the next). Charges above 0 become owed, due by `now + SPEND_RETRY_MS`
 * (the caller sends them at once; the alarm only if that fails). Returns how many became owed.
 */
export function settleEndedAttempts(sql: Sql, state: LifecycleState, now: number): number {
  const live = state.status === "leased" || state.status === "running";
  const liveIteration = live ? state.iteration : -1;
  const liveAttempt = live ? state.attempt : -1;
  const settled = sql
    .exec<{ charge_usd: number }>(
      `UPDATE attempt_usage
       SET charge_usd = COALESCE(result_cost_usd, cost_usd, 0), charge_month = ?,
           charge_due_at = CASE WHEN COALESCE(result_cost_usd, cost_usd, 0) > 0 THEN ? ELSE NULL END
       WHERE charge_usd IS NULL AND NOT (iteration = ? AND attempt = ?)
       RETURNING charge_usd`,
      monthOf(now),
      now + SPEND_RETRY_MS,
      liveIteration,
      liveAttempt,
    )
    .toArray();
  return settled.filter((row) => row.charge_usd > 0).length;
}

/** Charges not yet taken by the spend meter. */
export function owedCharges(sql: Sql): OwedCharge[] {
  return sql
    .exec<{ iteration: number; attempt: number; charge_usd: number; charge_month: string }>(
      "SELECT iteration, attempt, charge_usd, charge_month FROM attempt_usage WHERE charge_due_at IS NOT NULL ORDER BY iteration, attempt",
    )
    .toArray()
    .map((row) => ({ iteration: row.iteration, attempt: row.attempt, costUsd: row.charge_usd, month: row.charge_month }));
}

/** The spend meter took this charge. */
export function chargeSent(sql: Sql, charge: Pick<OwedCharge, "iteration" | "attempt">): void {
  sql.exec("UPDATE attempt_usage SET charge_due_at = NULL WHERE iteration = ? AND attempt = ?", charge.iteration, charge.attempt);
}

/** Sending failed: the alarm tries the owed charges again at `at`. */
export function postponeCharges(sql: Sql, at: number): void {
  sql.exec("UPDATE attempt_usage SET charge_due_at = ? WHERE charge_due_at IS NOT NULL", at);
}

/** When the alarm must send owed charges, or null when none are owed. */
export function chargeDeadline(sql: Sql): number | null {
  return sql.exec<{ at: number | null }>("SELECT MIN(charge_due_at) AS at FROM attempt_usage").one().at;
}

/**
 * Sends every owed charge to the key's spend meter, each named by its attempt so a repeat is
 * counted once; marks each sent as the meter takes it. On a failure the rest wait for the alarm
 * (`SPEND_RETRY_MS`) and the error is thrown to the caller, which logs it.
 */
export async function sendOwedCharges(
  sql: Sql,
  input: { taskId: string; createdAt: number; charge: (charge: { id: string; month: string; costUsd: number }) => Promise<unknown>; now: () => number },
): Promise<number> {
  const owed = owedCharges(sql);
  let sent = 0;
  try {
    for (const charge of owed) {
      // The creation time tells apart two tasks of one id (an Idempotency-Key reused after the first was deleted).
      await input.charge({ id: `${input.taskId}@${input.createdAt}/${charge.iteration}/${charge.attempt}`, month: charge.month, costUsd: charge.costUsd });
      chargeSent(sql, charge);
      sent++;
    }
  } catch (err) {
    postponeCharges(sql, input.now() + SPEND_RETRY_MS);
    throw err;
  }
  return sent;
}
