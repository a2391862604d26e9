/**
 * The audit log's table: append, prune to the retention bound, and query newest first with
 * filters and a cursor. Handed the object's `sql`.
 * @module
 */
import type { AuditAction, AuditEntry, AuditOutcome } from "#api/audit.js";
import type { ErrorCode } from "#api/errors.js";
import type { Migration, Sql } from "../sql/migrations.js";

export const AUDIT_MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: "audit log",
    statements: [
      `CREATE TABLE audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        client_ip TEXT,
        request_id TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT,
        outcome TEXT NOT NULL,
        error_code TEXT
      )`,
      "CREATE INDEX audit_at ON audit (at)",
      "CREATE INDEX audit_actor ON audit (actor, seq)",
      "CREATE INDEX audit_action ON audit (action, seq)",
      "CREATE INDEX audit_target ON audit (target, seq)",
    ],
  },
];

/** One entry to record (the store assigns its id). */
export interface AuditRecord {
  at: number;
  actor: string;
  clientIp: string | null;
  requestId: string;
  action: AuditAction;
  target: string | null;
  outcome: AuditOutcome;
  errorCode: ErrorCode | null;
}

export interface AuditFilter {
  actor?: string;
  action?: AuditAction;
  target?: string;
  sinceMs?: number;
  untilMs?: number;
  beforeSeq?: number;
  limit: number;
}

interface AuditRow extends Record<string, SqlStorageValue> {
  seq: number;
  at: number;
  actor: string;
  client_ip: string | null;
  request_id: string;
  action: string;
  target: string | null;
  outcome: string;
  error_code: string | null;
}

/** Fields are cut to these lengths: the log must stay small whatever a caller sends. */
const FIELD_MAX_CHARS = 256;
const cut = (s: string | null): string | null => (s === null ? null : s.slice(0, FIELD_MAX_CHARS));

export function appendAudit(sql: Sql, r: AuditRecord): void {
  sql.exec(
    `INSERT INTO audit (at, actor, client_ip, request_id, action, target, outcome, error_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    r.at,
    cut(r.actor),
    cut(r.clientIp),
    cut(r.requestId),
    r.action,
    cut(r.target),
    r.outcome,
    r.errorCode,
  );
}

/** Deletes entries older than `maxAgeMs`, and all but the newest `maxRows`. */
export function pruneAudit(sql: Sql, bounds: { now: number; maxAgeMs: number; maxRows: number }): void {
  sql.exec("DELETE FROM audit WHERE at < ?", bounds.now - bounds.maxAgeMs);
  sql.exec("DELETE FROM audit WHERE seq <= (SELECT MAX(seq) FROM audit) - ?", bounds.maxRows);
}

export function auditCount(sql: Sql): number {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM audit").one().n;
}

/** Entries matching every filter given, newest first. */
export function queryAudit(sql: Sql, f: AuditFilter): AuditEntry[] {
  const where: string[] = [];
  const args: SqlStorageValue[] = [];
  const add = (clause: string, value: SqlStorageValue | undefined) => {
    if (value === undefined) return;
    where.push(clause);
    args.push(value);
  };
  add("actor = ?", f.actor);
  add("action = ?", f.action);
  add("target = ?", f.target);
  add("at >= ?", f.sinceMs);
  add("at < ?", f.untilMs);
  add("seq < ?", f.beforeSeq);
  const sqlText = `SELECT * FROM audit ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY seq DESC LIMIT ?`;
  return sql
    .exec<AuditRow>(sqlText, ...args, f.limit)
    .toArray()
    .map((row) => ({
      id: String(row.seq),
      at: new Date(row.at).toISOString(),
      actor: row.actor,
      client_ip: row.client_ip,
      request_id: row.request_id,
      action: row.action as AuditAction,
      target: row.target,
      outcome: row.outcome as AuditOutcome,
      error_code: row.error_code as ErrorCode | null,
    }));
}
