/**
 * Short-lived runner credentials scoped to one pool, so that a runner never holds the secret
 * every pool's runners share.
 *
 * Stateless: the edge keeps nothing. A credential's id names its pool, its expiry and a nonce
 * (`cfrc1:<pool>:<expires, Unix seconds>:<32 hex>`); its secret is HMAC-SHA256 of the id under a
 * runner secret (one of the edge's `RUNNER_SECRETS`). A runner signs its requests with that
 * secret exactly as it would with the runner secret (`signing.ts`) and sends the id in
 * `x-codeforge-credential`; the edge derives the secret again from the id, so a changed id
 * (another pool, a later expiry) no longer verifies. The holder can neither mint another
 * credential nor learn the runner secret from it. Nothing revokes a credential before it
 * expires but removing the runner secret it was minted from, so keep them short.
 *
 * What the runner is given (`CODEFORGE_RUNNER_CREDENTIAL`) is the id and the secret in one
 * string, `<id>:<secret>`.
 * @module
 */
import { z } from "zod";
import { RUNNER_CREDENTIAL_TTL_DEFAULT_SECONDS, RUNNER_CREDENTIAL_TTL_MAX_SECONDS, RUNNER_CREDENTIAL_TTL_MIN_SECONDS } from "./limits.js";
import { toHex } from "./signing.js";
import { Slug } from "./task-request.js";

/** The request header carrying a credential's id. */
export const CREDENTIAL_HEADER = "x-codeforge-credential";

const ID_PATTERN = /^cfrc1:([a-z0-9][a-z0-9._-]{0,62}):(\d{1,12}):([0-9a-f]{32})$/;
/** Domain separation: this HMAC is never a request signature (those start `CODEFORGE-HMAC-SHA256`). */
const DERIVATION_LINE = "CODEFORGE-RUNNER-CREDENTIAL-V1";

/** `POST /api/v1/runner-credentials` (admin). */
export const CreateRunnerCredentialRequest = z.strictObject({
  /** The only pool the credential may lease from and report on. */
  pool: Slug,
  /** How long it works, from now. */
  ttl_seconds: z.number().int().min(RUNNER_CREDENTIAL_TTL_MIN_SECONDS).max(RUNNER_CREDENTIAL_TTL_MAX_SECONDS).default(RUNNER_CREDENTIAL_TTL_DEFAULT_SECONDS),
});
export type CreateRunnerCredentialRequest = z.infer<typeof CreateRunnerCredentialRequest>;

export const RunnerCredential = z.object({
  /** Names the pool and the expiry; not a secret (a runner sends it on every request). */
  credential_id: z.string(),
  /** Secret: what the runner takes as `CODEFORGE_RUNNER_CREDENTIAL` (`<credential_id>:<secret>`). Shown once. */
  credential: z.string(),
  pool: Slug,
  /** ISO 8601; from then on the edge refuses it (401). */
  expires_at: z.string(),
});
export type RunnerCredential = z.infer<typeof RunnerCredential>;

/** What a credential id says. */
export interface CredentialId {
  id: string;
  pool: string;
  expiresAtSeconds: number;
}

/** The parts of a credential id, or null when it is not one. */
export function parseCredentialId(id: string): CredentialId | null {
  const match = ID_PATTERN.exec(id);
  return match ? { id, pool: match[1]!, expiresAtSeconds: Number(match[2]) } : null;
}

/** The credential's secret, derived from a runner secret: HMAC-SHA256 of its id, hex. */
export async function credentialSecret(runnerSecret: string, id: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(runnerSecret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return toHex(new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(`${DERIVATION_LINE}\n${id}`))));
}

/**
 * A new credential for `pool`, valid for `ttlSeconds` from `now`.
 * @example
 * const { credential } = await mintRunnerCredential({ runnerSecret, pool: "gpu", ttlSeconds: 3_600 });
 */
export async function mintRunnerCredential(input: { runnerSecret: string; pool: string; ttlSeconds: number; now?: number }): Promise<RunnerCredential> {
  const expiresAtSeconds = Math.floor((input.now ?? Date.now()) / 1_000) + input.ttlSeconds;
  const nonce = toHex(crypto.getRandomValues(new Uint8Array(16)));
  const id = `cfrc1:${input.pool}:${expiresAtSeconds}:${nonce}`;
  const secret = await credentialSecret(input.runnerSecret, id);
  return { credential_id: id, credential: `${id}:${secret}`, pool: input.pool, expires_at: new Date(expiresAtSeconds * 1_000).toISOString() };
}

/** A credential as the runner holds it (`<id>:<secret>`), or null when the text is not one. */
export function parseRunnerCredential(text: string): (CredentialId & { secret: string }) | null {
  const split = text.trim().lastIndexOf(":");
  const id = parseCredentialId(text.trim().slice(0, split));
  const secret = text.trim().slice(split + 1);
  return split > 0 && id && /^[0-9a-f]{64}$/.test(secret) ? { ...id, secret } : null;
}
