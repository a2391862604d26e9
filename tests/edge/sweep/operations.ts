/**
 * The operations the OpenAPI sweep covers, read from the document the app generates from its
 * routes, and what their request schemas take: `sample` builds the smallest valid value,
 * `refuses` says when a value is certainly of the wrong type.
 */
import fc from "fast-check";
import { createApp } from "../../../edge/src/app.js";
import { openApiDocument } from "../../../edge/src/routes/openapi-document.js";

// biome-ignore lint: JSON Schema is untyped here on purpose.
export type Schema = Record<string, any>;
export type Json = unknown;

/** The pool every task the sweep creates goes to (one per test file that loads this module). */
export const POOL = `openapi-sweep-${crypto.randomUUID().slice(0, 8)}`;
export const JSON_TYPE = "application/json";

// The document as the app generates it from its routes (openapi.test.ts checks it is the committed one).
const doc = openApiDocument(createApp(), "sweep") as { paths: Record<string, Record<string, Schema>>; components: { schemas: Record<string, Schema> } };

export type Security = "bearer" | "runner" | "public" | "metrics" | "github";
export interface Operation {
  method: string;
  path: string;
  security: Security;
  schema: Schema | undefined;
  example: Json | undefined;
  bodyRequired: boolean;
  query: string[];
  pathParams: string[];
}

function securityOf(op: Schema): Security {
  const sec = (op.security ?? [{ bearer: [] }]) as Record<string, unknown>[];
  if (sec.length === 0) return "public";
  if (sec.some((s) => "runnerSignature" in s)) return "runner";
  if (sec.some((s) => "metricsToken" in s)) return "metrics";
  if (sec.some((s) => "githubSignature" in s)) return "github";
  return "bearer";
}

export const operations: Operation[] = Object.entries(doc.paths).flatMap(([path, ops]) =>
  Object.entries(ops)
    .filter(([method]) => ["get", "post", "put", "patch", "delete"].includes(method))
    .map(([method, op]) => {
      const params = (op.parameters ?? []) as { name: string; in: string }[];
      const media = op.requestBody?.content?.[JSON_TYPE];
      return {
        method: method.toUpperCase(),
        path,
        security: securityOf(op),
        schema: media?.schema,
        example: media?.example,
        bodyRequired: op.requestBody?.required === true,
        query: params.filter((p) => p.in === "query").map((p) => p.name),
        pathParams: params.filter((p) => p.in === "path").map((p) => p.name),
      };
    }),
);

// Schemas: resolve, sample a valid value, and know what a schema certainly refuses.

export function resolve(schema: Schema | undefined): Schema {
  let s = schema ?? {};
  for (let i = 0; i < 10 && typeof s.$ref === "string"; i++) s = doc.components.schemas[s.$ref.split("/").pop()!] ?? {};
  return s;
}

function regexOf(pattern: string): RegExp {
  try {
    return new RegExp(pattern, "u");
  } catch {
    return new RegExp(pattern);
  }
}

/** A string the schema accepts. */
function sampleString(s: Schema): string {
  if (s.format === "date-time") return new Date(Date.now() + 86_400_000).toISOString();
  if (s.format === "uri" || s.format === "url") return "https://example.com/x";
  const min = Math.max(s.minLength ?? 1, 1);
  const max = s.maxLength ?? 64;
  if (s.pattern) {
    const re = regexOf(s.pattern);
    const found = ["a", "abc", "a1", "runner-1", "A", "x".repeat(min)].find((c) => re.test(c) && c.length >= min && c.length <= max);
    if (found) return found;
    return fc.sample(
      fc.stringMatching(re).filter((c) => c.length >= min && c.length <= max),
      { numRuns: 1, seed: 1 },
    )[0]!;
  }
  return "x".repeat(Math.min(min, max));
}

/** The smallest value `schema` accepts: required properties only, minimum numbers. */
export function sample(schema: Schema | undefined, depth = 0): Json {
  const s = resolve(schema);
  if ("const" in s) return s.const;
  if (Array.isArray(s.enum)) return s.enum[0];
  const alternatives = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (alternatives) return sample(alternatives.find((a) => resolve(a).type !== "null") ?? alternatives[0], depth + 1);
  if (s.allOf) return Object.assign({}, ...(s.allOf as Schema[]).map((a) => sample(a, depth + 1)));
  const type = Array.isArray(s.type) ? s.type.find((t: string) => t !== "null") : s.type;
  switch (type) {
    case "object": {
      const out: Record<string, Json> = {};
      for (const name of (s.required ?? []) as string[]) out[name] = sample(s.properties?.[name], depth + 1);
      if ("pool" in (s.properties ?? {})) out.pool = POOL;
      return out;
    }
    case "array": {
      const n = Math.min(Math.max(s.minItems ?? 0, 1), s.maxItems ?? 1);
      return depth > 6 ? [] : Array.from({ length: n }, () => sample(s.items, depth + 1));
    }
    case "string":
      return sampleString(s);
    case "integer":
    case "number":
      return s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : (s.default ?? 1));
    case "boolean":
      return s.default ?? false;
    case "null":
      return null;
    default:
      return s.default ?? null;
  }
}

/** The one JSON type a schema takes, when it takes exactly one (else undefined: it may take several). */
export function onlyType(schema: Schema | undefined): string | undefined {
  const s = resolve(schema);
  if (s.anyOf || s.oneOf || s.allOf || !s.type || Array.isArray(s.type)) return undefined;
  return s.type;
}

function jsonType(value: Json): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

export function refuses(schema: Schema | undefined, value: Json): boolean {
  const type = onlyType(schema);
  if (!type) return false;
  const actual = jsonType(value);
  return !(actual === type || (type === "number" && actual === "integer"));
}
