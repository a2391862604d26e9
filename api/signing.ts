/**
 * HMAC-SHA256 request signing between runners and the edge, on WebCrypto only, so the same
 * code runs in workerd and in Node.
 *
 * The signature covers a canonical string of the timestamp, method, path with query, and the
 * SHA-256 digest of the body, so neither a changed body nor a request moved to another path
 * verifies. Timestamps outside ±5 minutes are refused, which bounds replays; every runner
 * write is also idempotent and fenced by its lease, so a replay inside the window changes
 * nothing. Signatures are checked with `crypto.subtle.verify`, which compares in constant time.
 * @module
 */
import { SIGNATURE_MAX_SKEW_SECONDS } from "./limits.js";

export const TIMESTAMP_HEADER = "x-codeforge-timestamp";
export const SIGNATURE_HEADER = "x-codeforge-signature";
const SCHEME = "v1";
const ALGORITHM_LINE = "CODEFORGE-HMAC-SHA256";

const encoder = new TextEncoder();

/** The exact bytes that are signed. */
export async function canonicalString(input: { timestamp: number; method: string; pathAndQuery: string; body: Uint8Array | string }): Promise<string> {
  const body = typeof input.body === "string" ? encoder.encode(input.body) : input.body;
  const digest = await crypto.subtle.digest("SHA-256", body);
  return [ALGORITHM_LINE, String(input.timestamp), input.method.toUpperCase(), input.pathAndQuery, toHex(new Uint8Array(digest))].join("\n");
}

/** `CryptoKey` is not a global type in every runtime's typings; derive it. */
type HmacKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

const keyCache = new Map<string, Promise<HmacKey>>();

function hmacKey(secret: string): Promise<HmacKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    // Runners have one secret and the edge a short list: the cache stays tiny.
    if (keyCache.size > 16) keyCache.clear();
    keyCache.set(secret, key);
  }
  return key;
}

/** Headers to add to a runner request. `now` is injectable for tests. */
export async function signRequest(input: {
  secret: string;
  method: string;
  pathAndQuery: string;
  body: Uint8Array | string;
  now?: () => number;
}): Promise<Record<string, string>> {
  const timestamp = Math.floor((input.now ?? Date.now)() / 1000);
  const data = await canonicalString({ timestamp, method: input.method, pathAndQuery: input.pathAndQuery, body: input.body });
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(input.secret), encoder.encode(data));
  return {
    [TIMESTAMP_HEADER]: String(timestamp),
    [SIGNATURE_HEADER]: `${SCHEME}=${toHex(new Uint8Array(mac))}`,
  };
}

export type VerifyResult = { ok: true } | { ok: false; reason: "missing" | "malformed" | "expired" | "mismatch" };

/** Checks a request's signature against any of `secrets` (several during rotation). */
export async function verifyRequest(input: {
  secrets: readonly string[];
  method: string;
  pathAndQuery: string;
  body: Uint8Array;
  timestampHeader: string | null | undefined;
  signatureHeader: string | null | undefined;
  now?: () => number;
}): Promise<VerifyResult> {
  if (!input.timestampHeader || !input.signatureHeader) return { ok: false, reason: "missing" };
  if (!/^\d{1,12}$/.test(input.timestampHeader)) return { ok: false, reason: "malformed" };
  const match = /^v1=([0-9a-f]{64})$/.exec(input.signatureHeader.trim());
  if (!match) return { ok: false, reason: "malformed" };
  const timestamp = Number(input.timestampHeader);
  const nowSeconds = Math.floor((input.now ?? Date.now)() / 1000);
  if (Math.abs(nowSeconds - timestamp) > SIGNATURE_MAX_SKEW_SECONDS) return { ok: false, reason: "expired" };

  const signature = fromHex(match[1]!);
  const data = encoder.encode(await canonicalString({ timestamp, method: input.method, pathAndQuery: input.pathAndQuery, body: input.body }));
  for (const secret of input.secrets) {
    if (await crypto.subtle.verify("HMAC", await hmacKey(secret), signature, data)) return { ok: true };
  }
  return { ok: false, reason: "mismatch" };
}

/** SHA-256 of a string, hex-encoded: used to store lease ids and keys as hashes only. */
export async function sha256Hex(text: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text))));
}

export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
