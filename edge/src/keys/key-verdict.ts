/**
 * Decides, for a key found by its secret, whether this request may use it: revoked, expired
 * and rotated-out secrets are refused (401), a request from outside the key's IP allowlist is
 * refused (403), and so is every request with such a key when the edge has no trustworthy
 * client address for it (fail closed); anything else yields the caller's `Principal`.
 *
 * Pure: the clock and the client address come in, so every rule is tested without a server.
 * @module
 */
import { ipAllowed, parseCidr, type CidrRange } from "#api/cidr.js";
import { hasScope } from "#api/keys.js";
import type { KeyCredential } from "./key-store.js";
import type { Principal } from "./principal.js";

export type KeyVerdict = { ok: true; principal: Principal } | { ok: false; code: "unauthorized" | "forbidden"; message: string };

export function judgeKey(credential: KeyCredential, request: { now: number; clientIp: string | null }): KeyVerdict {
  const { key } = credential;
  if (key.revokedAt !== null && request.now >= key.revokedAt) return { ok: false, code: "unauthorized", message: "this API key was revoked" };
  if (key.expiresAt !== null && request.now >= key.expiresAt) return { ok: false, code: "unauthorized", message: "this API key has expired" };
  if (credential.secretExpiresAt !== null && request.now >= credential.secretExpiresAt) {
    return { ok: false, code: "unauthorized", message: "this API key's secret was rotated and its overlap has ended; use the new secret" };
  }
  if (key.allowedCidrs.length > 0) {
    const ranges = key.allowedCidrs.map(parseCidr).flatMap((r): CidrRange[] => (r.ok ? [r.range] : []));
    if (request.clientIp === null) {
      return {
        ok: false,
        code: "forbidden",
        message:
          "this API key may only be used from its allowed_cidrs, and the edge has no trustworthy client address for this request (see CLIENT_ADDRESS_HEADER)",
      };
    }
    if (!ipAllowed(ranges, request.clientIp)) {
      return { ok: false, code: "forbidden", message: "this API key may not be used from this address" };
    }
  }
  return {
    ok: true,
    principal: {
      keyId: key.id,
      owner: key.id,
      admin: hasScope(key.scopes, "admin"),
      scopes: key.scopes,
      limits: key.limits,
    },
  };
}
