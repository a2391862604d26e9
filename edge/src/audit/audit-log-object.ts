/**
 * `AuditLog`: the one Durable Object that keeps the audit log (SQLite), bounded by
 * `AUDIT_RETENTION_MAX_ROWS` and `AUDIT_RETENTION_DAYS`.
 *
 * Pruning runs on every append; both deletes use an index and usually delete nothing, so the
 * log never grows past its bound and needs no alarm to keep it there.
 * @module
 */
import type { AuditPage, AuditQuery } from "#api/audit.js";
import { AUDIT_RETENTION_DAYS, AUDIT_RETENTION_MAX_ROWS } from "#api/limits.js";
import type { Env } from "../env.js";
import { SqlObject } from "../sql/sql-object.js";
import { AUDIT_MIGRATIONS, appendAudit, auditCount, pruneAudit, queryAudit, type AuditRecord } from "./audit-store.js";

const DAY_MS = 86_400_000;

/** The audit log of this deployment. */
export function auditLogOf(env: Env) {
  return env.AUDIT.get(env.AUDIT.idFromName("global"));
}

export class AuditLog extends SqlObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, AUDIT_MIGRATIONS);
  }

  async record(entry: AuditRecord): Promise<void> {
    appendAudit(this.sql, entry);
    pruneAudit(this.sql, { now: Date.now(), maxAgeMs: AUDIT_RETENTION_DAYS * DAY_MS, maxRows: AUDIT_RETENTION_MAX_ROWS });
  }

  async query(q: AuditQuery): Promise<AuditPage> {
    const entries = queryAudit(this.sql, {
      actor: q.actor,
      action: q.action,
      target: q.target,
      sinceMs: q.since === undefined ? undefined : Date.parse(q.since),
      untilMs: q.until === undefined ? undefined : Date.parse(q.until),
      beforeSeq: q.cursor === undefined ? undefined : Number(q.cursor),
      limit: q.limit + 1,
    });
    const page = entries.slice(0, q.limit);
    return { entries: page, next_cursor: entries.length > q.limit ? page[page.length - 1]!.id : null };
  }

  async count(): Promise<number> {
    return auditCount(this.sql);
  }
}
