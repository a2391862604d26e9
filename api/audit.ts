/**
 * The audit log: who changed what, when, from where, and whether it worked.
 *
 * An entry names the acting key (its id, never its secret), the client address, the request
 * id (to find the request's own log lines), the action, its target and its outcome. Nothing
 * from request bodies is kept: prompts, tokens and env values never reach the audit log.
 * @module
 */
import { z } from "zod";
import { ErrorCode } from "./errors.js";
import { AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX } from "./limits.js";

/** Every state-changing operation has one. */
export const AuditAction = z.enum([
  "task.create",
  "task.cancel",
  /** `POST /api/v1/tasks/:id/instructions` (follow-ups), when it exists. */
  "task.follow_up",
  /** An ended task deleted at the end of its retention (actor `system:retention`). */
  "task.delete",
  "key.create",
  "key.rotate",
  "key.revoke",
  /** A console sign-in (`POST /api/v1/session`; actor and target: the key signed in with). */
  "session.create",
  /** A webhook delivery replayed by hand. */
  "webhook.redeliver",
  /** A new webhook signing secret for the key's owner. */
  "webhook_secret.rotate",
  /** A runner credential minted for one pool (target: its credential id, never its secret). */
  "runner_credential.create",
  /** A runner seen for the first time (recorded by the runner registry). */
  "runner.register",
  /** A task started from GitHub (actor `github:<login>`; detail: repository, issue, user, installation). */
  "github.task.create",
  /** A follow-up started from a pull request review or comment (actor `github:<login>`). */
  "github.task.follow_up",
  /** A GitHub App installation mapped to a key (target: the installation id), or unmapped. */
  "github.installation.link",
  "github.installation.unlink",
]);
export type AuditAction = z.infer<typeof AuditAction>;

export const AuditOutcome = z.enum(["success", "failure"]);
export type AuditOutcome = z.infer<typeof AuditOutcome>;

export const AuditEntry = z.object({
  /** The entry's place in the log (`<at ms>-<slice>-<seq>`); entries are listed newest first. */
  id: z.string(),
  /** ISO 8601 time the edge handled the request. */
  at: z.string(),
  /** Key id of the caller (`admin` for the bootstrap key; `runner:<id>` for runners; `system:retention` for task deletions). */
  actor: z.string(),
  /** `CF-Connecting-IP`, or null when the edge did not get one. */
  client_ip: z.string().nullable(),
  request_id: z.string(),
  action: AuditAction,
  /** What was acted on (a task or key id); null when the request failed before one existed. */
  target: z.string().nullable(),
  outcome: AuditOutcome,
  /** The error code the caller got, for a failure. */
  error_code: ErrorCode.nullable(),
  /** What else the entry names, e.g. `github_repository`, `github_issue`, `github_user` for a task started from GitHub; null when nothing. */
  detail: z.record(z.string(), z.string()).nullable(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/** An entry's id, and so a `next_cursor`: its time (ms), its slice of the day and its seq there. */
const AUDIT_CURSOR_PATTERN = /^[0-9]{1,15}-[0-9]{1,3}-[0-9]{1,16}$/;

const Instant = z.iso.datetime({ offset: true, error: "must be an ISO 8601 time with a zone, e.g. 2026-01-31T12:00:00Z" });

/** Query of `GET /api/v1/audit`: every filter optional, all of them must match. */
export const AuditQuery = z.strictObject({
  actor: z.string().min(1).max(128).optional(),
  action: AuditAction.optional(),
  target: z.string().min(1).max(128).optional(),
  /** Entries at or after this time. */
  since: Instant.optional(),
  /** Entries before this time. */
  until: Instant.optional(),
  limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).default(AUDIT_PAGE_DEFAULT),
  /** `next_cursor` of the previous page. */
  cursor: z.string().regex(AUDIT_CURSOR_PATTERN, "cursor must be a next_cursor value").optional(),
});
export type AuditQuery = z.infer<typeof AuditQuery>;

/** Query of `GET /api/v1/audit/export`: the time range, and where a previous export stopped. */
export const AuditExportQuery = z.strictObject({
  /** Entries at or after this time (default: the start of the retention window). */
  since: Instant.optional(),
  /** Entries before this time (default: now). */
  until: Instant.optional(),
  /** The `next_cursor` of the last line of a previous export of the same range. */
  cursor: z.string().regex(AUDIT_CURSOR_PATTERN, "cursor must be a next_cursor value").optional(),
});
export type AuditExportQuery = z.infer<typeof AuditExportQuery>;

export const AuditPage = z.object({
  entries: z.array(AuditEntry),
  /** Pass as `cursor` for older entries; null when there are none. */
  next_cursor: z.string().nullable(),
});
export type AuditPage = z.infer<typeof AuditPage>;
