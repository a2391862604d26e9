/**
 * Replaces a task's secrets with `***` in everything the runner sends off the machine.
 *
 * A CLI told to "print your environment" — by a confused model or a prompt injection in the
 * repository — must not be able to publish the task's token or API keys through the task's
 * own output stream. So every secret value is masked in raw output, parsed agent events, the
 * runner's log lines and the completion, together with the forms a program is likely to print
 * it in: base64 (also where it sits inside a larger base64 text, such as an HTTP Basic
 * `Authorization` header, at any of the three byte alignments), URL encoding, JSON string
 * escaping, and each line of a multi-line secret (a PEM key printed with other line endings).
 *
 * Output arrives in arbitrary pieces, so a secret can be split across two reads. The stream
 * masker holds back only the end of what it has seen that could still be the start of a
 * secret form — never more than the longest form minus one character — and releases it once
 * the next piece (or the end of the stream) decides it.
 *
 * What this cannot catch: a secret transformed some other way (reversed, hex-encoded,
 * spelled out in prose). Masking is a second line of defence; the first is that secrets
 * reach only the processes that need them.
 * @module
 */

/** What replaces a secret. */
export const MASK = "***";

/** Values shorter than this are not masked: masking "a" or "yes" would shred normal output. */
export const SECRET_MIN_CHARS = 4;

/** Derived forms (base64 fragments) shorter than this are skipped: too likely to occur by chance. */
const DERIVED_MIN_CHARS = 8;

export interface SecretMasker {
  /** `text` with every secret form replaced by `MASK`. */
  mask(text: string): string;
  /** True when `text` holds a secret in any of its forms (what `mask` would replace). */
  contains(text: string): boolean;
  /** A masker for one stream of text pieces (one per output stream). */
  createStream(): StreamMasker;
  /** True when there is nothing to mask (masking is then the identity). */
  readonly empty: boolean;
}

export interface StreamMasker {
  /** Masks a piece; returns what can be released now (a possible secret start is held back). */
  push(text: string): string;
  /** Releases what was held back, masked. */
  end(): string;
}

/**
 * @example
 * const masker = createSecretMasker([lease.task.access_token, ...Object.values(lease.task.env)]);
 * const stdout = masker.createStream();
 * send(stdout.push(decoded)); … send(stdout.end());
 */
export function createSecretMasker(secrets: Iterable<string | null | undefined>): SecretMasker {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (!secret || secret.length < SECRET_MIN_CHARS) continue;
    addForms(secret, forms);
    const lines = secret.split(/\r\n|\r|\n/);
    if (lines.length > 1) {
      for (const line of lines) if (line.trim().length >= SECRET_MIN_CHARS) addForms(line, forms);
    }
  }
  // Longest first: at one position the longest form wins (the alternation is ordered).
  const sorted = [...forms].sort((a, b) => b.length - a.length);
  const pattern = sorted.length > 0 ? new RegExp(sorted.map(escapeRegExp).join("|"), "g") : null;
  const maxLength = sorted[0]?.length ?? 0;
  // Forms by first character, so finding a held-back tail looks only at forms that can match.
  const byFirstChar = new Map<string, string[]>();
  for (const form of sorted) {
    const list = byFirstChar.get(form[0]!) ?? [];
    list.push(form);
    byFirstChar.set(form[0]!, list);
  }

  function mask(text: string): string {
    return pattern && text.length > 0 ? text.replace(pattern, MASK) : text;
  }

  /** Index from which `text`'s end could still grow into a form (text.length when it cannot). */
  function holdFrom(text: string): number {
    for (let p = Math.max(0, text.length - (maxLength - 1)); p < text.length; p++) {
      const candidates = byFirstChar.get(text[p]!);
      if (!candidates) continue;
      const tail = text.slice(p);
      if (candidates.some((form) => form.length > tail.length && form.startsWith(tail))) return p;
    }
    return text.length;
  }

  const probe = pattern && new RegExp(pattern.source);
  return {
    mask,
    contains: (text) => probe?.test(text) === true,
    empty: pattern === null,
    createStream() {
      let pending = "";
      return {
        push(text) {
          if (!pattern) return text;
          const buffer = pending + text;
          const hold = holdFrom(buffer);
          // Every form that starts before `hold` lies wholly inside `buffer` (see holdFrom), so
          // the matches found there are final; a match may run past `hold`, and is kept whole.
          let out = "";
          let pos = 0;
          pattern.lastIndex = 0;
          for (let m = pattern.exec(buffer); m !== null && m.index < hold; m = pattern.exec(buffer)) {
            out += buffer.slice(pos, m.index) + MASK;
            pos = m.index + m[0].length;
          }
          const cut = Math.max(pos, hold);
          out += buffer.slice(pos, cut);
          pending = buffer.slice(cut);
          return out;
        },
        end() {
          const rest = mask(pending);
          pending = "";
          return rest;
        },
      };
    },
  };
}

function addForms(secret: string, forms: Set<string>): void {
  forms.add(secret);
  const bytes = new TextEncoder().encode(secret);
  const base64 = toBase64(bytes);
  forms.add(base64);
  forms.add(base64.replace(/=+$/, ""));
  forms.add(base64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""));
  // Inside a larger base64 text the secret starts at any byte alignment; the characters that
  // encode only the secret's own bytes are the same whatever surrounds it.
  for (let skip = 0; skip < 3; skip++) {
    const whole = Math.floor((bytes.length - skip) / 3) * 3;
    if (whole <= 0) continue;
    const fragment = toBase64(bytes.subarray(skip, skip + whole));
    if (fragment.length >= DERIVED_MIN_CHARS) forms.add(fragment);
  }
  forms.add(encodeURIComponent(secret));
  forms.add(encodeURIComponent(secret).replace(/%20/g, "+"));
  const json = JSON.stringify(secret).slice(1, -1);
  forms.add(json);
  // As ASCII-only JSON writers (Python's json.dumps) escape it.
  forms.add(json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
  for (const form of [...forms]) if (form.length < SECRET_MIN_CHARS) forms.delete(form);
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
