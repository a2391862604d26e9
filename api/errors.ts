/**
 * The one error envelope every CodeForge endpoint answers with, and its stable codes.
 *
 * Clients branch on `code`, never on `message`; messages are for people and may change.
 * @module
 */
import { z } from "zod";

/** Stable machine-readable error codes. */
export const ErrorCode = z.enum([
  "bad_request",
  "validation_failed",
  "invalid_json",
  "unsupported_media_type",
  "payload_too_large",
  "unauthorized",
  "forbidden",
  "not_found",
  "method_not_allowed",
  "conflict",
  "idempotency_conflict",
  "invalid_state",
  "lease_stale",
  "sequence_gap",
  "rate_limited",
  /** The API key's `monthly_spend_usd` is used up: no new work until the month (UTC) ends. */
  "spend_limit_reached",
  /** A follow-up would build on a patch in which a secret was masked (it does not match the files). */
  "patch_masked",
  "upgrade_required",
  /** A GitHub delivery's `X-Hub-Signature-256` is missing or does not match its body. */
  "invalid_signature",
  /** A GitHub delivery from an installation no admin mapped to a key (`PUT /api/v1/github/installations/{id}`). */
  "unknown_installation",
  "internal_error",
  "unavailable",
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** `{ "error": { "code", "message", "request_id", "field"? } }` */
export const ErrorBody = z.object({
  error: z.object({
    code: ErrorCode,
    message: z.string(),
    request_id: z.string(),
    /** Dotted path of the input field that failed validation, when one did. */
    field: z.string().optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** HTTP status that goes with each code. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  validation_failed: 400,
  invalid_json: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  idempotency_conflict: 409,
  invalid_state: 409,
  lease_stale: 409,
  sequence_gap: 409,
  rate_limited: 429,
  spend_limit_reached: 402,
  patch_masked: 409,
  upgrade_required: 426,
  invalid_signature: 401,
  unknown_installation: 422,
  internal_error: 500,
  unavailable: 503,
};
