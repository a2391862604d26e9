/**
 * `recordAudit`: how anything on the edge writes to the audit log, off the request's path.
 *
 * The entry goes to the shard of its day and actor (`audit-shards.ts`). The write is handed to
 * `waitUntil`, so the response does not wait for it; a failed write is logged (with the entry,
 * which holds no secrets) and never fails the operation it describes.
 * Routes use the `audited()` middleware; other code (the runner registry, say) calls this.
 * @module
 */
import type { AuditAction, AuditOutcome } from "#api/audit.js";
import type { ErrorCode } from "#api/errors.js";
import type { Env } from "../env.js";
import { auditShard, auditShardOf, dayOf } from "./audit-shards.js";
import type { AuditRecord } from "./audit-store.js";
import { logFor } from "../log.js";

export interface AuditEvent {
  /** Key id of the caller, or `runner:<id>` for a runner. */
  actor: string;
  clientIp: string | null;
  requestId: string;
  action: AuditAction;
  target: string | null;
  outcome: AuditOutcome;
  errorCode?: ErrorCode | null;
  /** Short name-value pairs the entry also names (a GitHub user, repository and issue). */
  detail?: Readonly<Record<string, string>> | null;
  /** Defaults to now. */
  at?: number;
}

/**
 * Records `event` in the background.
 * @example recordAudit(env, (p) => ctx.waitUntil(p), { actor: `runner:${id}`, clientIp: null, requestId, action: "runner.register", target: id, outcome: "success" })
 */
export function recordAudit(env: Env, waitUntil: (promise: Promise<unknown>) => void, event: AuditEvent): void {
  const record: AuditRecord = {
    at: event.at ?? Date.now(),
    actor: event.actor,
    clientIp: event.clientIp,
    requestId: event.requestId,
    action: event.action,
    target: event.target,
    outcome: event.outcome,
    errorCode: event.errorCode ?? null,
    detail: event.detail ?? null,
  };
  const slice = auditShardOf(record.actor);
  const write = auditShard(env, dayOf(record.at), slice)
    .record(record, slice)
    .catch((err: unknown) => {
      logFor(env).error("audit log write failed", { request_id: record.requestId ?? undefined, entry: record, error: String(err) });
    });
  waitUntil(write);
}
