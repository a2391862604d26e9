/**
 * Authenticated encryption of task secrets at rest, on WebCrypto (AES-256-GCM).
 *
 * A task's `access_token` and `env` live in its object's SQLite row until the task ends. They
 * are stored sealed with a key derived (HKDF-SHA-256) from the Worker secret `TASK_SECRETS_KEY`,
 * so a copy of the database, a backup or a debugging dump shows ciphertext only. Each sealed
 * value is bound to its task id as additional data: a row copied to another task does not open.
 *
 * The same key material also yields an HMAC key for fingerprints of requests that carry
 * secrets (the idempotency check compares them), so even a short token cannot be guessed back
 * from its stored fingerprint without the key.
 * @module
 */

/** Sealed text starts with its format version, so the format can change without guessing. */
const SEALED_PREFIX = "v1.";

/** AES-GCM's standard nonce size; a fresh random nonce per seal. */
const IV_BYTES = 12;

/** The HKDF salt of task secrets; other uses of the box (session cookies) pass their own. */
export const TASK_SECRETS_PURPOSE = "codeforge task secrets";

export interface SecretBox {
  /** Encrypts `plaintext` bound to `context` (the task id). */
  seal(plaintext: string, context: string): Promise<string>;
  /** Decrypts what `seal` made with the same key and context; throws otherwise. */
  open(sealed: string, context: string): Promise<string>;
  /** Hex HMAC-SHA-256 of `text`, keyed from the same key material. */
  fingerprint(text: string): Promise<string>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const boxes = new Map<string, Promise<SecretBox>>();

/**
 * The box for `keyMaterial` (derived once per isolate). `purpose` is the HKDF salt: boxes of one
 * key material for different purposes have unrelated keys.
 * @example const box = await secretBox(config.taskSecretsKey); const sealed = await box.seal(json, taskId);
 */
export function secretBox(keyMaterial: string, purpose: string = TASK_SECRETS_PURPOSE): Promise<SecretBox> {
  const id = `${purpose}\u0000${keyMaterial}`;
  let box = boxes.get(id);
  if (!box) {
    box = deriveBox(keyMaterial, purpose);
    boxes.set(id, box);
  }
  return box;
}

async function deriveBox(keyMaterial: string, purpose: string): Promise<SecretBox> {
  const base = await crypto.subtle.importKey("raw", encoder.encode(keyMaterial), "HKDF", false, ["deriveKey"]);
  const hkdf = (info: string) => ({ name: "HKDF", hash: "SHA-256", salt: encoder.encode(purpose), info: encoder.encode(info) });
  const aes = await crypto.subtle.deriveKey(hkdf("aes-256-gcm v1"), base, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  const mac = await crypto.subtle.deriveKey(hkdf("request fingerprint v1"), base, { name: "HMAC", hash: "SHA-256", length: 256 }, false, ["sign"]);

  return {
    async seal(plaintext, context) {
      const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
      const params = { name: "AES-GCM", iv, additionalData: encoder.encode(context) };
      const ciphertext = new Uint8Array(await crypto.subtle.encrypt(params, aes, encoder.encode(plaintext)));
      const out = new Uint8Array(IV_BYTES + ciphertext.byteLength);
      out.set(iv);
      out.set(ciphertext, IV_BYTES);
      return SEALED_PREFIX + toBase64(out);
    },
    async open(sealed, context) {
      if (!sealed.startsWith(SEALED_PREFIX)) throw new Error("sealed value has an unknown format");
      const bytes = fromBase64(sealed.slice(SEALED_PREFIX.length));
      const params = { name: "AES-GCM", iv: bytes.subarray(0, IV_BYTES), additionalData: encoder.encode(context) };
      return decoder.decode(await crypto.subtle.decrypt(params, aes, bytes.subarray(IV_BYTES)));
    },
    async fingerprint(text) {
      const signature = new Uint8Array(await crypto.subtle.sign("HMAC", mac, encoder.encode(text)));
      return [...signature].map((b) => b.toString(16).padStart(2, "0")).join("");
    },
  };
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
