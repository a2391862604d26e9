/**
 * Webhook signatures per the Standard Webhooks specification (standardwebhooks.com), on
 * WebCrypto only, so the edge (workerd) signs and a Node or browser receiver verifies with the
 * same code.
 *
 * A delivery carries `webhook-id` (the message id, the same on every attempt and redelivery,
 * so a receiver can drop duplicates), `webhook-timestamp` (Unix seconds of this attempt, so a
 * receiver can refuse replays of old ones) and `webhook-signature`: `v1,<base64 HMAC-SHA256>`
 * over `<id>.<timestamp>.<body>`, keyed by the base64 part of a `whsec_…` secret. During a
 * secret rotation the header lists one signature per secret, separated by spaces; a receiver
 * holding either secret accepts. The body is signed byte for byte as sent: never re-serialize
 * JSON before verifying.
 * @module
 */

export const WEBHOOK_ID_HEADER = "webhook-id";
export const WEBHOOK_TIMESTAMP_HEADER = "webhook-timestamp";
export const WEBHOOK_SIGNATURE_HEADER = "webhook-signature";

/** The prefix the specification gives secrets, so they are recognizable in config and logs. */
export const WEBHOOK_SECRET_PREFIX = "whsec_";

/** Random bytes in a new secret (the specification asks for 24 to 64). */
export const WEBHOOK_SECRET_BYTES = 32;

/** Receivers should refuse timestamps further than this from their clock (the spec's default). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

const encoder = new TextEncoder();

/** A new `whsec_<base64>` secret from the platform's CSPRNG. */
export function newWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(WEBHOOK_SECRET_BYTES)));
}

/** The key bytes of a `whsec_…` secret (the prefix is optional, as the specification allows). */
export function webhookSecretKey(secret: string): Uint8Array<ArrayBuffer> {
  const encoded = secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret.slice(WEBHOOK_SECRET_PREFIX.length) : secret;
  const key = fromBase64(encoded);
  if (key.byteLength === 0) throw new Error("webhook secret is empty");
  return key;
}

/** `CryptoKey` is not a global type in every runtime's typings; derive it. */
type HmacKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

function hmacKey(secret: string): Promise<HmacKey> {
  return crypto.subtle.importKey("raw", webhookSecretKey(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

function signedContent(id: string, timestamp: number, body: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(encoder.encode(`${id}.${timestamp}.${body}`));
}

/** One `v1,<base64>` signature of a message. */
export async function webhookSignature(secret: string, input: { id: string; timestamp: number; body: string }): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), signedContent(input.id, input.timestamp, input.body));
  return `v1,${toBase64(new Uint8Array(mac))}`;
}

/**
 * The three signature headers of one attempt, signed with every secret in `secrets` (the
 * current one first; the previous one too while a rotation overlaps).
 * @example const headers = await signWebhook({ secrets: [secret], id: "msg_…", timestamp: 1614265330, body });
 */
export async function signWebhook(input: { secrets: readonly string[]; id: string; timestamp: number; body: string }): Promise<Record<string, string>> {
  if (input.secrets.length === 0) throw new Error("no webhook secret to sign with");
  const signatures = await Promise.all(input.secrets.map((secret) => webhookSignature(secret, input)));
  return {
    [WEBHOOK_ID_HEADER]: input.id,
    [WEBHOOK_TIMESTAMP_HEADER]: String(input.timestamp),
    [WEBHOOK_SIGNATURE_HEADER]: signatures.join(" "),
  };
}

export type WebhookVerification = { ok: true } | { ok: false; reason: "missing" | "expired" | "mismatch" };

/**
 * The receiver's side: true when any `v1` signature in the header is the HMAC of this message
 * under `secret` and the timestamp is within tolerance. Compares with `crypto.subtle.verify`
 * (constant time), never as strings.
 */
export async function verifyWebhook(input: {
  secret: string;
  headers: { get(name: string): string | null } | Record<string, string | undefined>;
  body: string;
  now?: () => number;
  toleranceSeconds?: number;
}): Promise<WebhookVerification> {
  const header = (name: string): string | null | undefined =>
    typeof input.headers.get === "function"
      ? (input.headers as { get(n: string): string | null }).get(name)
      : (input.headers as Record<string, string | undefined>)[name];
  const id = header(WEBHOOK_ID_HEADER);
  const timestampText = header(WEBHOOK_TIMESTAMP_HEADER);
  const signatures = header(WEBHOOK_SIGNATURE_HEADER);
  if (!id || !timestampText || !signatures || !/^\d{1,12}$/.test(timestampText)) return { ok: false, reason: "missing" };
  const timestamp = Number(timestampText);
  const nowSeconds = Math.floor((input.now ?? Date.now)() / 1000);
  if (Math.abs(nowSeconds - timestamp) > (input.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS)) return { ok: false, reason: "expired" };
  const key = await hmacKey(input.secret);
  const content = signedContent(id, timestamp, input.body);
  for (const entry of signatures.split(" ")) {
    const [version, encoded] = entry.split(",", 2);
    if (version !== "v1" || !encoded) continue;
    let mac: Uint8Array<ArrayBuffer>;
    try {
      mac = fromBase64(encoded);
    } catch {
      continue; // not base64: not a signature we made; the others may still match
    }
    if (await crypto.subtle.verify("HMAC", key, mac, content)) return { ok: true };
  }
  return { ok: false, reason: "mismatch" };
}

/** Standard base64 (with padding) of bytes, without `Buffer`. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Bytes of standard base64 text; throws on anything else. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
