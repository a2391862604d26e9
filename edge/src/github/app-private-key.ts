/**
 * The GitHub App's private key as WebCrypto can import it. GitHub hands out PKCS#1 PEMs
 * ("BEGIN RSA PRIVATE KEY"), but WebCrypto (and so `universal-github-app-jwt` in workerd) only
 * imports PKCS#8. A PKCS#1 RSAPrivateKey is the inner octet string of a PKCS#8 PrivateKeyInfo,
 * so the conversion is a fixed ASN.1 envelope around the same bytes — no Node crypto needed.
 * Errors here name the problem, never the key's text.
 * @module
 */

const PKCS1_LABEL = "RSA PRIVATE KEY";
const PKCS8_LABEL = "PRIVATE KEY";

/** AlgorithmIdentifier for rsaEncryption (OID 1.2.840.113549.1.1.1) with NULL parameters. */
const RSA_ALGORITHM_IDENTIFIER = [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
/** PrivateKeyInfo.version: INTEGER 0. */
const VERSION_ZERO = [0x02, 0x01, 0x00];

/** Thrown when the configured private key is not a PEM RSA key this client can use. */
export class GitHubAppKeyError extends Error {
  override name = "GitHubAppKeyError";
}

/**
 * Returns `pem` as a PKCS#8 PEM ("BEGIN PRIVATE KEY"), converting PKCS#1 when needed. Accepts
 * keys whose line breaks were escaped as `\n` (the usual way to put a PEM in an env var) and CRLF.
 * @example const pkcs8 = toPkcs8Pem(env.GITHUB_APP_PRIVATE_KEY);
 */
export function toPkcs8Pem(pem: string): string {
  const text = pem.replace(/\\n/g, "\n").replace(/\r/g, "").trim();
  const match = /^-----BEGIN ([A-Z ]+)-----\n([A-Za-z0-9+/=\n\s]+?)\n?-----END \1-----$/.exec(text);
  if (!match) throw new GitHubAppKeyError("The GitHub App private key is not a PEM block (expected BEGIN RSA PRIVATE KEY or BEGIN PRIVATE KEY).");
  const [, label, body] = match;
  if (label !== PKCS1_LABEL && label !== PKCS8_LABEL) {
    throw new GitHubAppKeyError(`The GitHub App private key is a PEM "${label}" block; expected RSA PRIVATE KEY (PKCS#1) or PRIVATE KEY (PKCS#8).`);
  }
  let der: Uint8Array;
  try {
    der = base64ToBytes(body!.replace(/\s/g, ""));
  } catch {
    throw new GitHubAppKeyError("The GitHub App private key's PEM body is not valid base64.");
  }
  if (der[0] !== 0x30) throw new GitHubAppKeyError("The GitHub App private key's PEM body is not a DER sequence.");
  const pkcs8 = label === PKCS1_LABEL ? wrapPkcs1(der) : der;
  return toPem(PKCS8_LABEL, pkcs8);
}

function wrapPkcs1(pkcs1: Uint8Array): Uint8Array {
  const octetString = [0x04, ...derLength(pkcs1.length)];
  const contentLength = VERSION_ZERO.length + RSA_ALGORITHM_IDENTIFIER.length + octetString.length + pkcs1.length;
  const head = [0x30, ...derLength(contentLength), ...VERSION_ZERO, ...RSA_ALGORITHM_IDENTIFIER, ...octetString];
  const out = new Uint8Array(head.length + pkcs1.length);
  out.set(head, 0);
  out.set(pkcs1, head.length);
  return out;
}

/** DER definite length: short form under 128, else 0x80|n followed by n big-endian bytes. */
function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return [0x80 | bytes.length, ...bytes];
}

function base64ToBytes(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function toPem(label: string, der: Uint8Array): string {
  let binary = "";
  for (const byte of der) binary += String.fromCharCode(byte);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
