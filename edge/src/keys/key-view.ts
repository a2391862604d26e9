/**
 * How a stored key is shown to admins (`ApiKey` in the contract). The secret is not part of
 * a stored key at all; only create and rotate add it, once.
 * @module
 */
import type { ApiKey, KeyStatus } from "#api/keys.js";
import type { KeyRecord } from "./key-store.js";

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function keyStatus(key: Pick<KeyRecord, "revokedAt" | "expiresAt">, now: number): KeyStatus {
  if (key.revokedAt !== null) return "revoked";
  if (key.expiresAt !== null && now >= key.expiresAt) return "expired";
  return "active";
}

export function toApiKey(key: KeyRecord, input: { now: number; previousSecretExpiresAt: number | null }): ApiKey {
  return {
    id: key.id,
    name: key.name,
    scopes: key.scopes,
    status: keyStatus(key, input.now),
    created_at: iso(key.createdAt)!,
    created_by: key.createdBy,
    expires_at: iso(key.expiresAt),
    revoked_at: iso(key.revokedAt),
    rotated_at: iso(key.rotatedAt),
    previous_secret_expires_at: key.revokedAt === null ? iso(input.previousSecretExpiresAt) : null,
    allowed_cidrs: key.allowedCidrs,
    limits: key.limits,
  };
}
