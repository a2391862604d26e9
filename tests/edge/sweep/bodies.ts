/**
 * Request bodies for the OpenAPI sweep: the valid base built from an operation's request schema
 * (its documented example where it has one) and its mutations, each marked `mustFail` when it
 * is wrong by construction.
 */
import { API_BODY_MAX_BYTES } from "#api/limits.js";
import { type Json, type Operation, POOL, type Schema, onlyType, refuses, resolve, sample } from "./operations.js";

export interface BodyCase {
  name: string;
  body: string | undefined;
  contentType?: string;
  mustFail: boolean;
  /** A rule another change decides (e.g. duplicate keys): only "no 5xx, envelope" is asserted. */
  lenient?: boolean;
}

/** A real value for fields that name things the sweep created (lease ids, pools). */
export interface Realities {
  leaseId?: string;
}

export function baseBody(op: Operation, real: Realities): Record<string, Json> | Json {
  const base = structuredClone(op.example ?? sample(op.schema)) as Json;
  if (base && typeof base === "object" && !Array.isArray(base)) {
    const obj = base as Record<string, Json>;
    if ("lease_id" in obj && real.leaseId) obj.lease_id = real.leaseId;
    const props = (resolve(op.schema).properties ?? {}) as Record<string, Schema>;
    if ("pool" in props) obj.pool = POOL;
    // A long poll answers at once when told to wait the least it may (its default is to wait).
    for (const [name, p] of Object.entries(props)) if (/wait/.test(name) && typeof resolve(p).minimum === "number") obj[name] = resolve(p).minimum;
  }
  return base;
}

function deepNesting(depth: number): string {
  return "[".repeat(depth) + "]".repeat(depth);
}

export function bodyCases(op: Operation, real: Realities): BodyCase[] {
  if (!op.schema) return [{ name: "no body", body: undefined, mustFail: false }];
  const schema = resolve(op.schema);
  const base = baseBody(op, real) as Record<string, Json>;
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  const required = (schema.required ?? []) as string[];
  const text = JSON.stringify(base);
  const cases: BodyCase[] = [{ name: "valid", body: text, mustFail: false }];
  const with_ = (field: string, raw: string) => {
    const rest = { ...base };
    delete rest[field];
    const inner = JSON.stringify(rest).slice(1, -1);
    return `{${inner}${inner ? "," : ""}${JSON.stringify(field)}:${raw}}`;
  };
  for (const field of required) {
    const copy = { ...base };
    delete copy[field];
    cases.push({ name: `missing ${field}`, body: JSON.stringify(copy), mustFail: true });
  }
  if (schema.additionalProperties === false) {
    cases.push({ name: "unknown field", body: JSON.stringify({ ...base, surprise_field: 1 }), mustFail: true });
    cases.push({ name: "__proto__ field", body: with_("__proto__", '{"admin":true}'), mustFail: true });
  }
  const wrongs: Json[] = [null, "\u202eevil\u0000", 1.5, true, [], {}, 0, ""];
  for (const [n, [field, fs]] of Object.entries(props).entries()) {
    // null and one other wrong type per field, a different one from field to field.
    for (const wrong of [
      null,
      ...wrongs
        .slice(1)
        .filter((w) => refuses(fs, w))
        .slice(n % 3, (n % 3) + 1),
    ]) {
      if (refuses(fs, wrong)) cases.push({ name: `${field} = ${JSON.stringify(wrong)}`, body: JSON.stringify({ ...base, [field]: wrong }), mustFail: true });
    }
    const f = resolve(fs);
    if (onlyType(fs) === "string" && f.maxLength !== undefined && f.maxLength < API_BODY_MAX_BYTES / 2) {
      cases.push({ name: `${field} over maxLength`, body: JSON.stringify({ ...base, [field]: "x".repeat(f.maxLength + 1) }), mustFail: true });
    }
    if (onlyType(fs) === "array" && f.maxItems !== undefined) {
      const item = sample(f.items);
      cases.push({
        name: `${field} over maxItems`,
        body: JSON.stringify({ ...base, [field]: Array.from({ length: f.maxItems + 1 }, () => item) }),
        mustFail: true,
      });
    }
    if (n === 0 && onlyType(fs) && onlyType(fs) !== "array") {
      cases.push({ name: `${field} nested 20000 deep`, body: with_(field, deepNesting(20_000)), mustFail: true });
    }
  }
  cases.push(
    { name: "huge string past the body limit", body: JSON.stringify({ ...base, [required[0] ?? "x"]: "x".repeat(API_BODY_MAX_BYTES + 1) }), mustFail: true },
    { name: "huge array", body: JSON.stringify({ ...base, huge: Array.from({ length: 50_000 }, () => 0) }), mustFail: schema.additionalProperties === false },
    { name: "nested objects 30000 deep", body: `${'{"a":'.repeat(30_000)}1${"}".repeat(30_000)}`, mustFail: schema.additionalProperties === false },
    { name: "malformed JSON", body: text.slice(0, -1), mustFail: true },
    { name: "trailing garbage", body: `${text}}`, mustFail: true },
    { name: "JSON null", body: "null", mustFail: true },
    { name: "JSON array", body: `[${text}]`, mustFail: true },
    { name: "JSON number", body: "42", mustFail: true },
    { name: "lone surrogate", body: JSON.stringify({ ...base, [required[0] ?? "x"]: "a\ud800b" }), mustFail: false },
    // Decided by another change (duplicate keys, charset, encodings): only "no 5xx, envelope" here.
    { name: "duplicate key", body: `{${text.slice(1, -1)}${text.length > 2 ? "," : ""}${text.slice(1, -1) || '"a":1'}}`, mustFail: false, lenient: true },
    { name: "latin-1 charset", body: text, contentType: "application/json; charset=latin1", mustFail: false, lenient: true },
  );
  for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", ""]) {
    // The runner API signs the body and reads it as JSON whatever its type; the public API wants the type.
    cases.push({ name: `content-type ${JSON.stringify(type)}`, body: text, contentType: type, mustFail: op.security === "bearer" && op.bodyRequired });
  }
  return cases;
}

export const bigBody = (c: BodyCase) => (c.body?.length ?? 0) > API_BODY_MAX_BYTES;
