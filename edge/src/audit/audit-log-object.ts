/**
 * `AuditLog`: one shard of the audit log, a UTC day's entries of one slice of actors (see
 * `audit-shards.ts`), in SQLite; and, as the instance named `directory`, the list of shards
 * that hold entries (`audit-directory.ts`).
 *
 * Retention is by time, with no row cap: the first write registers the shard in the directory
 * and arms its alarm for the end of its day plus `AUDIT_RETENTION_DAYS`; the alarm empties the
 * whole shard. A shard that was never written to has no table, and a query of it creates none.
 * @module
 */
import { DurableObject } from "cloudflare:workers";
import type { AuditEntry } from "#api/audit.js";
import { AUDIT_RETENTION_DAYS } from "#api/limits.js";
import type { Env } from "../env.js";
import { migrate, tableExists } from "../sql/migrations.js";
import { DIRECTORY_MIGRATIONS, listShards, registerShard } from "./audit-directory.js";
import { auditDirectory, DAY_MS, dayOf } from "./audit-shards.js";
import { AUDIT_MIGRATIONS, type AuditFilter, type AuditRecord, appendAudit, exportAudit, queryAudit } from "./audit-store.js";

export class AuditLog extends DurableObject<Env> {
  private migrated = false;
  private alarmArmed = false;

  /** Appends an entry of this shard's day (`slice`: this shard's); the first one registers the shard and arms its alarm. */
  async record(entry: AuditRecord, slice: number): Promise<void> {
    const sql = this.ctx.storage.sql;
    if (!this.migrated) {
      // Registered before anything is written: an entry is never in a shard queries cannot find.
      if (!tableExists(sql, "audit")) await auditDirectory(this.env).registerShard(dayOf(entry.at), slice);
      migrate(sql, AUDIT_MIGRATIONS);
      this.migrated = true;
    }
    appendAudit(sql, entry);
    if (!this.alarmArmed) {
      if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm((dayOf(entry.at) + 1 + AUDIT_RETENTION_DAYS) * DAY_MS);
      this.alarmArmed = true;
    }
  }

  /** Entries matching `filter`, newest first; `shard` is this shard's slice (entry ids carry it). */
  async query(shard: number, filter: AuditFilter): Promise<AuditEntry[]> {
    if (!tableExists(this.ctx.storage.sql, "audit")) return [];
    return queryAudit(this.ctx.storage.sql, shard, filter);
  }

  /** Entries after a position, oldest first, for exports. */
  async exportPage(shard: number, q: { after: { at: number; seq: number } | null; untilMs: number; limit: number }): Promise<AuditEntry[]> {
    if (!tableExists(this.ctx.storage.sql, "audit")) return [];
    return exportAudit(this.ctx.storage.sql, shard, q);
  }

  /** Directory: a shard of `day` and `slice` holds entries. */
  async registerShard(day: number, slice: number): Promise<void> {
    migrate(this.ctx.storage.sql, DIRECTORY_MIGRATIONS);
    registerShard(this.ctx.storage.sql, day, slice);
  }

  /** Directory: the shards of days `fromDay`..`toDay` that hold entries, newest day first. */
  async shards(fromDay: number, toDay: number): Promise<{ day: number; slice: number }[]> {
    if (!tableExists(this.ctx.storage.sql, "shards")) return [];
    return listShards(this.ctx.storage.sql, fromDay, toDay, dayOf(Date.now()));
  }

  /** The day left the retention window: everything this shard holds goes. */
  override async alarm(): Promise<void> {
    await this.ctx.storage.deleteAll();
    this.migrated = false;
    this.alarmArmed = false;
  }
}
