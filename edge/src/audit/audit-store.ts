/**
 * One audit shard's table (a day's entries of some actors, see `audit-shards.ts`): append,
 * query newest first with filters and a position to start before, and read oldest first for
 * exports. Handed the object's `sql`.
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
  {
    id: 2,
    name: "newest first by time",
    statements: ["CREATE INDEX audit_at_seq ON audit (at, seq)"],
  },
  {
    id: 3,
    name: "entry detail",
    // What else an entry names, as JSON text (the GitHub user, repository and issue of a task
    // started from GitHub); NULL for entries without.
    statements: ["ALTER TABLE audit ADD COLUMN detail TEXT"],
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
  /** Short name-value pairs the entry also names (`AuditEntry.detail`); null when none. */
  detail?: Readonly<Record<string, string>> | null;
}

/** Where an entry sits in the whole log: its time, its shard's index within the day, its seq there. */
export interface AuditPosition {
  at: number;
  shard: number;
  seq: number;
}

/** An entry's id (and a page's `next_cursor`): its position, `<at>-<shard>-<seq>`. */
export const auditEntryId = (p: AuditPosition): string => `${p.at}-${p.shard}-${p.seq}`;

export function parseAuditPosition(id: string): AuditPosition {
  const [at, shard, seq] = id.split("-").map(Number);
  return { at: at!, shard: shard!, seq: seq! };
}

export interface AuditFilter {
  actor?: string;
  action?: AuditAction;
  target?: string;
  sinceMs?: number;
  untilMs?: number;
  /** Only entries before this position, in (at, shard, seq) order. */
  before?: AuditPosition;
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
  detail: string | null;
}

/** Fields are cut to these lengths: the log must stay small whatever a caller sends. */
const FIELD_MAX_CHARS = 256;
const cut = (s: string | null): string | null => (s === null ? null : s.slice(0, FIELD_MAX_CHARS));
/** At most this many detail pairs are kept, each name and value cut to `FIELD_MAX_CHARS`. */
const DETAIL_MAX_PAIRS = 8;

function detailText(detail: Readonly<Record<string, string>> | null): string | null {
  if (detail === null) return null;
  const pairs = Object.entries(detail)
    .slice(0, DETAIL_MAX_PAIRS)
    .map(([name, value]) => [cut(name), cut(value)]);
  return pairs.length > 0 ? JSON.stringify(Object.fromEntries(pairs)) : null;
}

export function appendAudit(sql: Sql, r: AuditRecord): void {
  sql.exec(
    `INSERT INTO audit (at, actor, client_ip, request_id, action, target, outcome, error_code, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    r.at,
    cut(r.actor),
    cut(r.clientIp),
    cut(r.requestId),
    r.action,
    cut(r.target),
    r.outcome,
    r.errorCode,
    detailText(r.detail ?? null),
  );
}

const toEntry =
  (shard: number) =>
  (row: AuditRow): AuditEntry => ({
    id: auditEntryId({ at: row.at, shard, seq: row.seq }),
    at: new Date(row.at).toISOString(),
    actor: row.actor,
    client_ip: row.client_ip,
    request_id: row.request_id,
    action: row.action as AuditAction,
    target: row.target,
    outcome: row.outcome as AuditOutcome,
    error_code: row.error_code as ErrorCode | null,
    detail: row.detail === null ? null : (JSON.parse(row.detail) as Record<string, string>),
  });

/** Entries of shard `shard` matching every filter given, newest first (by time, then seq). */
export function queryAudit(sql: Sql, shard: number, f: AuditFilter): AuditEntry[] {
  const where: string[] = [];
  const args: SqlStorageValue[] = [];
  const add = (clause: string, ...values: (SqlStorageValue | undefined)[]) => {
    if (values[0] === undefined) return;
    where.push(clause);
    args.push(...(values as SqlStorageValue[]));
  };
  add("actor = ?", f.actor);
  add("action = ?", f.action);
  add("target = ?", f.target);
  add("at >= ?", f.sinceMs);
  add("at < ?", f.untilMs);
  const b = f.before;
  // (at, shard, seq) < (b.at, b.shard, b.seq), with this shard's index fixed.
  if (b) {
    if (shard < b.shard) add("at <= ?", b.at);
    else if (shard > b.shard) add("at < ?", b.at);
    else add("(at < ? OR (at = ? AND seq < ?))", b.at, b.at, b.seq);
  }
  const sqlText = `SELECT * FROM audit ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY at DESC, seq DESC LIMIT ?`;
  return sql
    .exec<AuditRow>(sqlText, ...args, f.limit)
    .toArray()
    .map(toEntry(shard));
}

/** Up to `limit` entries of shard `shard` after `after` (its at and seq) and before `untilMs`, oldest first. */
export function exportAudit(sql: Sql, shard: number, q: { after: { at: number; seq: number } | null; untilMs: number; limit: number }): AuditEntry[] {
  const after = q.after ?? { at: -1, seq: 0 };
  return sql
    .exec<AuditRow>(
      "SELECT * FROM audit WHERE (at > ? OR (at = ? AND seq > ?)) AND at < ? ORDER BY at, seq LIMIT ?",
      after.at,
      after.at,
      after.seq,
      q.untilMs,
      q.limit,
    )
    .toArray()
    .map(toEntry(shard));
}
