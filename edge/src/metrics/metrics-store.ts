/**
 * The global counters and histograms, in the `Metrics` Durable Object's SQLite: one row per
 * series, its running total. Handed `sql`, nothing else.
 *
 * Only samples of the catalogue's counter and histogram families are kept (gauges are read at
 * scrape time, never stored), and the number of series is bounded, so a bug that mints labels
 * cannot grow the table without end.
 * @module
 */
import { METRIC_FAMILIES } from "#api/metrics.js";
import type { Migration, Sql } from "../sql/migrations.js";
import { parseSeriesKey, seriesKey, type Sample } from "./samples.js";

/** Far above what the catalogue's labels produce (methods × routes × statuses, a few thousand). */
export const SERIES_MAX = 20_000;

export const METRICS_MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: "series",
    statements: ["CREATE TABLE series (key TEXT PRIMARY KEY, value REAL NOT NULL)"],
  },
];

/** Sample names the store accepts: counters, and each histogram's bucket, sum and count. */
const STORED_NAMES: ReadonlySet<string> = new Set(
  METRIC_FAMILIES.flatMap((f) => (f.type === "counter" ? [f.name] : f.type === "histogram" ? [`${f.name}_bucket`, `${f.name}_sum`, `${f.name}_count`] : [])),
);

/** Adds the samples to their series; returns how many were refused (unknown name, bad value, table full). */
export function addSamples(sql: Sql, samples: readonly Sample[]): number {
  let refused = 0;
  for (const s of samples) {
    if (!STORED_NAMES.has(s.name) || !Number.isFinite(s.value) || s.value < 0) {
      refused += 1;
      continue;
    }
    const key = seriesKey(s.name, s.labels);
    const updated = sql.exec("UPDATE series SET value = value + ? WHERE key = ? RETURNING key", s.value, key).toArray().length;
    if (updated) continue;
    const count = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM series").one().n;
    if (count >= SERIES_MAX) {
      refused += 1;
      continue;
    }
    sql.exec("INSERT INTO series (key, value) VALUES (?, ?)", key, s.value);
  }
  return refused;
}

/** Every stored series with its total. */
export function readSamples(sql: Sql): Sample[] {
  return sql
    .exec<{ key: string; value: number }>("SELECT key, value FROM series ORDER BY key")
    .toArray()
    .map((row) => ({ ...parseSeriesKey(row.key), value: row.value }));
}
