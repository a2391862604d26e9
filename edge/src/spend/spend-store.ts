/**
 * The spend meter's tables: what one API key's tasks spent per calendar month (UTC), and the
 * charges already counted, so a charge sent twice (a task object retrying after a lost answer)
 * is counted once. Handed the object's `sql`, nothing else.
 * @module
 */
import type { Migration, Sql } from "../sql/migrations.js";

export const SPEND_MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: "monthly spend and counted charges",
    statements: [
      "CREATE TABLE monthly_spend (month TEXT PRIMARY KEY, cost_usd REAL NOT NULL)",
      "CREATE TABLE charges (id TEXT PRIMARY KEY, month TEXT NOT NULL, cost_usd REAL NOT NULL, charged_at INTEGER NOT NULL)",
      "CREATE INDEX charges_month ON charges (month)",
    ],
  },
];

/**
 * Charge ids are kept for the month they count in and the one before: a retry comes within
 * minutes (the task object's alarm), not months, and older months no longer decide anything.
 */
export const CHARGE_IDS_KEPT_MONTHS = 2;

/** Monthly totals kept for reading back (two years); older ones are dropped. */
export const MONTHS_KEPT = 24;

/** Adds `costUsd` to `month` unless charge `id` was counted before. True when it was counted now. */
export function addCharge(sql: Sql, charge: { id: string; month: string; costUsd: number; now: number }): boolean {
  const inserted = sql
    .exec(
      "INSERT INTO charges (id, month, cost_usd, charged_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING id",
      charge.id,
      charge.month,
      charge.costUsd,
      charge.now,
    )
    .toArray();
  if (inserted.length === 0) return false;
  sql.exec(
    "INSERT INTO monthly_spend (month, cost_usd) VALUES (?, ?) ON CONFLICT (month) DO UPDATE SET cost_usd = cost_usd + excluded.cost_usd",
    charge.month,
    charge.costUsd,
  );
  return true;
}

/** Spend of `month` (`YYYY-MM`), 0 when nothing was charged in it. */
export function monthSpend(sql: Sql, month: string): number {
  return sql.exec<{ cost_usd: number }>("SELECT cost_usd FROM monthly_spend WHERE month = ?", month).toArray()[0]?.cost_usd ?? 0;
}

/** Forgets charge ids before `oldestKeptMonth` and totals before `oldestTotalMonth` (both `YYYY-MM`). */
export function pruneSpend(sql: Sql, oldestKeptMonth: string, oldestTotalMonth: string): void {
  sql.exec("DELETE FROM charges WHERE month < ?", oldestKeptMonth);
  sql.exec("DELETE FROM monthly_spend WHERE month < ?", oldestTotalMonth);
}
