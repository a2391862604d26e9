/**
 * The audit log's directory: which (day, slice) shards hold entries, so a query or an export
 * reads only those instead of every slice of every day in the retention window (720 objects
 * at 90 days × 8 slices). A shard registers itself once, before its first entry is written:
 * eight writes a day at most, never on a request's path. Kept in the `AuditLog` instance named
 * `directory`, in its own table.
 * @module
 */
import { AUDIT_RETENTION_DAYS } from "#api/limits.js";
import type { Migration, Sql } from "../sql/migrations.js";

export const AUDIT_DIRECTORY_NAME = "directory";

export const DIRECTORY_MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: "audit shards",
    statements: ["CREATE TABLE shards (day INTEGER NOT NULL, slice INTEGER NOT NULL, PRIMARY KEY (day, slice))"],
  },
];

export function registerShard(sql: Sql, day: number, slice: number): void {
  sql.exec("INSERT INTO shards (day, slice) VALUES (?, ?) ON CONFLICT DO NOTHING", day, slice);
}

/** The shards of days `fromDay`..`toDay` holding entries, newest day first; forgets days past retention. */
export function listShards(sql: Sql, fromDay: number, toDay: number, today: number): { day: number; slice: number }[] {
  sql.exec("DELETE FROM shards WHERE day < ?", today - AUDIT_RETENTION_DAYS - 1);
  return sql.exec<{ day: number; slice: number }>("SELECT day, slice FROM shards WHERE day BETWEEN ? AND ? ORDER BY day DESC, slice", fromDay, toDay).toArray();
}
