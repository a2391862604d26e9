/**
 * Identifiers: task ids, lease ids and secrets, from the platform's CSPRNG.
 *
 * Task ids start with a millisecond timestamp so they sort by creation time; a task created
 * with an `Idempotency-Key` gets an id derived from the key instead, so the same key always
 * reaches the same task object and no separate index is needed to find it.
 * @module
 */
import { sha256Hex } from "./signing.js";

const CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz";

export const TASK_ID_PATTERN = /^tsk_[0-9a-hjkmnp-tv-z]{26}$/;

/** `tsk_` + 10 characters of time + 16 random characters (Crockford base32, lowercase). */
export function newTaskId(now: number = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return `tsk_${time}${randomBase32(16)}`;
}

/** The task id an idempotency key maps to, scoped to the key's owner. */
export async function idempotentTaskId(owner: string, idempotencyKey: string): Promise<string> {
  const digest = await sha256Hex(`${owner}\n${idempotencyKey}`);
  let out = "";
  // 26 characters × 5 bits = 130 bits of the digest; 4 hex digits (16 bits) give 3 characters (15 bits).
  for (let i = 0; out.length < 26; i += 4) {
    const n = parseInt(digest.slice(i, i + 4), 16);
    out += CROCKFORD[(n >> 10) & 31]! + CROCKFORD[(n >> 5) & 31]! + CROCKFORD[n & 31]!;
  }
  return `tsk_${out.slice(0, 26)}`;
}

/** Webhook message ids as `newMessageId` makes them; anything else cannot exist. */
export const MESSAGE_ID_PATTERN = /^msg_[0-9a-hjkmnp-tv-z]{26}$/;

/** A webhook message id (`webhook-id`): `msg_` + the same time-ordered form as a task id. */
export function newMessageId(now: number = Date.now()): string {
  return `msg_${newTaskId(now).slice(4)}`;
}

/** A lease credential: 160 random bits. */
export function newLeaseId(): string {
  return `lse_${randomBase32(32)}`;
}

/** API key ids: `key_` + 16 random characters (80 bits); shown in lists and the audit log. */
export const KEY_ID_PATTERN = /^key_[0-9a-hjkmnp-tv-z]{16}$/;

/** An API key as clients send it: `cf_<key id>_<secret>`. The key id inside lets logs, secret
 * scanners and people tell keys apart without the secret; only its SHA-256 is ever stored. */
export const API_KEY_PATTERN = /^cf_(key_[0-9a-hjkmnp-tv-z]{16})_[0-9a-hjkmnp-tv-z]{52}$/;

export function newKeyId(): string {
  return `key_${randomBase32(16)}`;
}

/** A new secret for key `keyId`: 52 random characters (260 bits). */
export function newApiKeyToken(keyId: string): string {
  return `cf_${keyId}_${randomBase32(52)}`;
}

/** A random secret for keys and runner credentials: 256 random bits. */
export function newSecret(prefix: string): string {
  return `${prefix}_${randomBase32(52)}`;
}

function randomBase32(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  for (const byte of bytes) out += CROCKFORD[byte & 31];
  return out;
}
