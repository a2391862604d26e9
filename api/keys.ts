/**
 * API keys: scopes, limits, and the `/api/v1/keys` requests and responses.
 *
 * A key's secret is shown once, when the key is made or rotated; the edge stores only its
 * SHA-256. Everything else about a key (its scopes, expiry, IP allowlist and limits) can be
 * read back by an admin at any time.
 * @module
 */
import { z } from "zod";
import { parseCidr } from "./cidr.js";
import { KEY_ID_PATTERN } from "./ids.js";
import { KEY_CIDRS_MAX, KEY_ROTATION_OVERLAP_DEFAULT_SECONDS, KEY_ROTATION_OVERLAP_MAX_SECONDS, KEYS_PAGE_DEFAULT, KEYS_PAGE_MAX } from "./limits.js";

/**
 * What a key may do. `tasks:read` reads tasks, their events and streams; `tasks:write` submits
 * and cancels; `admin` manages keys, reads the audit log and the runners list, sees every
 * task, and implies both task scopes (an admin can mint itself any key anyway).
 */
export const Scope = z.enum(["tasks:read", "tasks:write", "admin"]);
export type Scope = z.infer<typeof Scope>;

/** True when a key with `scopes` may do what `needed` allows. */
export function hasScope(scopes: readonly Scope[], needed: Scope): boolean {
  return scopes.includes(needed) || scopes.includes("admin");
}

export const KeyId = z.string().regex(KEY_ID_PATTERN, "not a key id (key_ followed by 16 characters)");

/**
 * A key's own limits. The first two are rate limits enforced per key by the edge's limiter
 * (see docs/rate-limits.md); the next two bound its tasks; the last bounds what its tasks may
 * spend. Absent means the edge's default (rate limits) or no limit (tasks, spend).
 */
export const KeyLimits = z.strictObject({
  requests_per_minute: z.number().int().min(1).max(1_000_000).optional(),
  tasks_per_minute: z.number().int().min(1).max(1_000_000).optional(),
  /** Tasks of this key leased or running at once (per pool); more wait in the queue. */
  max_concurrent_tasks: z.number().int().min(1).max(10_000).optional(),
  /** Tasks of this key waiting in a pool's queue; a submission beyond it is refused (429). */
  max_queued_tasks: z.number().int().min(1).max(100_000).optional(),
  /**
   * US dollars this key's tasks may spend per calendar month (UTC), as their runners report it
   * (each attempt's `result.cost_usd`, else its last `usage` event's). Once the month's spend
   * reaches it, submissions (new tasks and follow-ups) are refused with 402
   * `spend_limit_reached` until the month ends; work already submitted runs on.
   */
  monthly_spend_usd: z.number().positive().max(1_000_000).optional(),
});
export type KeyLimits = z.infer<typeof KeyLimits>;

/** An IPv4 or IPv6 range (`203.0.113.0/24`, `2001:db8::/32`) or a single address. */
export const CidrText = z.string().superRefine((text, ctx) => {
  const parsed = parseCidr(text);
  if (!parsed.ok) ctx.addIssue({ code: "custom", message: parsed.reason });
});

const KeyName = z
  .string()
  .min(1, "name must not be empty")
  .max(100)
  .regex(/^[^\p{Cc}\p{Cs}]+$/u, "name must not contain control characters");

/** `POST /api/v1/keys` */
export const CreateKeyRequest = z.strictObject({
  /** A label for people: what the key is for ("ci", "alice laptop"). Not secret, not unique. */
  name: KeyName,
  scopes: z
    .array(Scope)
    .min(1, "a key needs at least one scope")
    .refine((s) => new Set(s).size === s.length, "scopes must not repeat"),
  /** ISO 8601 with a time zone; the key stops working then. Absent: it never expires. */
  expires_at: z.iso.datetime({ offset: true }).optional(),
  /** Requests from elsewhere are refused (403). Empty or absent: any address. */
  allowed_cidrs: z.array(CidrText).max(KEY_CIDRS_MAX).default([]),
  limits: KeyLimits.default({}),
});
export type CreateKeyRequest = z.infer<typeof CreateKeyRequest>;
export type CreateKeyInput = z.input<typeof CreateKeyRequest>;

/** `POST /api/v1/keys/:id/rotate`; the body may be empty. */
export const RotateKeyRequest = z.strictObject({
  /** How long the secret(s) in use now keep working beside the new one. 0 ends them at once. */
  overlap_seconds: z.number().int().min(0).max(KEY_ROTATION_OVERLAP_MAX_SECONDS).default(KEY_ROTATION_OVERLAP_DEFAULT_SECONDS),
});
export type RotateKeyRequest = z.infer<typeof RotateKeyRequest>;

export const KeyStatus = z.enum(["active", "expired", "revoked"]);
export type KeyStatus = z.infer<typeof KeyStatus>;

/** A key as admins see it. Never its secret. */
export const ApiKey = z.object({
  id: z.string(),
  name: z.string(),
  scopes: z.array(Scope),
  status: KeyStatus,
  created_at: z.string(),
  /** The key id of the admin that made it. */
  created_by: z.string(),
  expires_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
  rotated_at: z.string().nullable(),
  /** Until when a secret replaced by the last rotation still works; null when none does. */
  previous_secret_expires_at: z.string().nullable(),
  allowed_cidrs: z.array(z.string()),
  limits: KeyLimits,
  /**
   * What the key's tasks spent this calendar month (UTC), in US dollars, as far as their
   * runners have reported it. Shown by `GET /api/v1/keys/:id`; absent from the other answers.
   */
  spend_this_month_usd: z.number().nonnegative().optional(),
  /** When this month's spend starts again from 0 (the next month, UTC); with `spend_this_month_usd`. */
  spend_resets_at: z.string().optional(),
});
export type ApiKey = z.infer<typeof ApiKey>;

/** The answer to create and rotate: the key, with its secret. The only time it is shown. */
export const ApiKeyWithSecret = ApiKey.extend({
  /** `cf_<key id>_<secret>`: send as `Authorization: Bearer <key>`. Store it now. */
  key: z.string(),
});
export type ApiKeyWithSecret = z.infer<typeof ApiKeyWithSecret>;

/** Query of `GET /api/v1/keys`: newest first. */
export const ListKeysQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(KEYS_PAGE_MAX).default(KEYS_PAGE_DEFAULT),
  /** `next_cursor` of the previous page. */
  cursor: z
    .string()
    .regex(/^[0-9]{1,15}_key_[0-9a-hjkmnp-tv-z]{16}$/, "cursor must be a next_cursor value")
    .optional(),
});
export type ListKeysQuery = z.infer<typeof ListKeysQuery>;

export const ApiKeyList = z.object({
  keys: z.array(ApiKey),
  /** Pass as `cursor` for the next page; null on the last. */
  next_cursor: z.string().nullable(),
});
export type ApiKeyList = z.infer<typeof ApiKeyList>;
