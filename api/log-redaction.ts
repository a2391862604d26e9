/**
 * What a log line must never carry, and how to take it out: one rule set the edge's logger and
 * the runner's (pino) both apply, so "secrets never reach a log" means the same on both sides.
 *
 * Two layers: a field whose name says it holds a secret (`authorization`, `access_token`,
 * `env`, `lease_id`, anything with token/secret/password in its name) is replaced whole; and
 * every string value is scanned for secrets that look like secrets (API keys, lease ids,
 * `whsec_` signing secrets, bearer credentials, common forge tokens, passwords in URLs), so a
 * secret inside an error message is caught too. Task secrets with no recognisable shape (an
 * `env` value) are kept out by never logging them: that is what the field rule is for.
 * @module
 */

export const REDACTED = "[redacted]";

/** Field names whose values are secrets, whatever they look like. Key *ids* (`key_id`) are public. */
export const SECRET_FIELD = /authorization|cookie|token|secret|password|passwd|api[-_]?key|private[-_]?key|signature|lease[-_]?id|^env$|^credentials?$/i;

const SECRET_SHAPES: readonly [RegExp, string][] = [
  // An API key keeps its key id (`cf_key_…_`), which names the key without the secret.
  [/\b(cf_key_[0-9a-z]{16}_)[0-9a-z]{20,}/g, `$1${REDACTED}`],
  [/\blse_[0-9a-z]{16,}/g, `lse_${REDACTED}`],
  // A runner credential keeps its id (pool, expiry, nonce), which names it without the secret.
  [/\b(cfrc1:[a-z0-9._-]{1,63}:\d{1,12}:[0-9a-f]{32}:)[0-9a-f]{64}/g, `$1${REDACTED}`],
  [/\bwhsec_[A-Za-z0-9+/=_-]{8,}/g, `whsec_${REDACTED}`],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/gi, `$1 ${REDACTED}`],
  [/\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}/g, `$1_${REDACTED}`],
  [/\bgithub_pat_[A-Za-z0-9_]{20,}/g, `github_pat_${REDACTED}`],
  [/\bglpat-[A-Za-z0-9_-]{16,}/g, `glpat-${REDACTED}`],
  [/\b(sk-(?:ant-)?)[A-Za-z0-9_-]{16,}/g, `$1${REDACTED}`],
  // A PEM private key (a GitHub App's, say), whole or cut off after its first line.
  [/-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(-----END \1PRIVATE KEY-----|$)/g, `-----BEGIN $1PRIVATE KEY-----${REDACTED}-----END $1PRIVATE KEY-----`],
  // Credentials in a URL: scheme://user:password@host.
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi, `$1${REDACTED}@`],
];

/** A string with every secret-shaped part replaced. */
export function redactText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_SHAPES) out = out.replace(pattern, replacement);
  return out;
}

/** A deep copy of `value` with secret fields replaced and secret-shaped text redacted. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactText(value);
  if (value === null || typeof value !== "object" || depth > 8) return value;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_FIELD.test(k) && v != null ? REDACTED : redactValue(v, depth + 1);
  return out;
}
