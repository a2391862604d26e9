/**
 * Property-based: a bad-input sweep over every operation the OpenAPI document lists, so a
 * route added to the document is swept without anyone adding it here.
 *
 * For each operation the sweep builds a request body from the operation's request schema (its
 * documented example where it has one, else the smallest value the schema accepts), then sends
 * that and mutations of it — required fields left out, unknown fields, nulls, wrong types,
 * strings and arrays past their limits, deep nesting, malformed JSON, wrong content types —
 * together with odd path and query values (unicode, `..`, very long, broken percent-encoding)
 * and the methods the path does not have, each with no key, a `tasks:read` key and the admin
 * key (runner operations: unsigned, wrongly signed, stale, signed over another body or path,
 * and correctly signed).
 *
 * The oracle is what a hostile client may learn: never a 5xx; every error is the JSON envelope
 * carrying the response's request id, with no stack trace, source path or secret in it; an
 * input wrong by construction is a 4xx; a request without valid credentials is a 401.
 * Run counts are bounded so the file takes seconds.
 */
import { SELF } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ErrorBody } from "#api/errors.js";
import { API_BODY_MAX_BYTES } from "#api/limits.js";
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signRequest } from "#api/signing.js";
import { createApp } from "../../edge/src/app.js";
import { openApiDocument } from "../../edge/src/routes/openapi-document.js";
import { ORIGIN, createTask } from "./api-client.js";
import { TEST_ADMIN_KEY, TEST_METRICS_TOKEN, TEST_RUNNER_SECRETS } from "./credentials.js";
import { createKey } from "./key-client.js";
import { takeLease } from "./runner-client.js";

// biome-ignore lint: JSON Schema is untyped here on purpose.
type Schema = Record<string, any>;
type Json = unknown;

const POOL = `openapi-sweep-${crypto.randomUUID().slice(0, 8)}`;
const RUNS = 4;
const JSON_TYPE = "application/json";

// The document as the app generates it from its routes (openapi.test.ts checks it is the committed one).
const doc = openApiDocument(createApp(), "sweep") as { paths: Record<string, Record<string, Schema>>; components: { schemas: Record<string, Schema> } };

type Security = "bearer" | "runner" | "public" | "metrics";
interface Operation {
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
  return "bearer";
}

const operations: Operation[] = Object.entries(doc.paths).flatMap(([path, ops]) =>
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

// ---------------------------------------------------------------------------------------------
// Schemas: resolve, sample a valid value, and know what a schema certainly refuses.

function resolve(schema: Schema | undefined): Schema {
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
function sample(schema: Schema | undefined, depth = 0): Json {
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
function onlyType(schema: Schema | undefined): string | undefined {
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

function refuses(schema: Schema | undefined, value: Json): boolean {
  const type = onlyType(schema);
  if (!type) return false;
  const actual = jsonType(value);
  return !(actual === type || (type === "number" && actual === "integer"));
}

// ---------------------------------------------------------------------------------------------
// Bodies: the valid base and its mutations. `mustFail`: wrong by construction.

interface BodyCase {
  name: string;
  body: string | undefined;
  contentType?: string;
  mustFail: boolean;
  /** A rule another change decides (e.g. duplicate keys): only "no 5xx, envelope" is asserted. */
  lenient?: boolean;
}

/** A real value for fields that name things the sweep created (lease ids, pools). */
interface Realities {
  leaseId?: string;
}

function baseBody(op: Operation, real: Realities): Record<string, Json> | Json {
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

function bodyCases(op: Operation, real: Realities): BodyCase[] {
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

// ---------------------------------------------------------------------------------------------
// Path and query values.

const ODD_VALUES = [
  "..",
  "%2e%2e",
  "a..b",
  "..%2f..%2f",
  "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
  "%zz",
  "%",
  "%00",
  "%ff%fe",
  "%ED%A0%80",
  "%E2%80%AE",
  encodeURIComponent("\u202eevil\u0000"),
  encodeURIComponent("😀".repeat(30)),
  "x".repeat(8_000),
  encodeURIComponent("'; DROP TABLE task; --"),
  "-1",
  "1e999",
  "NaN",
  "[object Object]",
  "__proto__",
  "constructor",
];

const oddValue = fc.oneof(
  fc.constantFrom(...ODD_VALUES),
  fc.string({ unit: "binary", maxLength: 40 }).map(encodeURIComponentLoose),
  fc.string({ unit: "binary-ascii", maxLength: 40 }).map((s) => s.replace(/[#?/\\\s]/g, "")),
);

/** A path segment that stays one segment: not empty and not a dot segment the URL parser would resolve. */
const oddSegment = oddValue.filter((v) => !/^(\.|%2e)*$/i.test(v));

/** Percent-encodes what URL parsing would otherwise mangle; lone surrogates as the bytes a sloppy client sends. */
function encodeURIComponentLoose(raw: string): string {
  let out = "";
  for (const ch of raw) {
    const u = ch.charCodeAt(0);
    if (ch.length === 1 && u >= 0xd800 && u <= 0xdfff)
      out += `%ED%${(0xa0 | ((u >> 6) & 0x1f)).toString(16).toUpperCase()}%${(0x80 | (u & 0x3f)).toString(16).toUpperCase()}`;
    else out += encodeURIComponent(ch);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sending and the oracle.

type Credential = "none" | "read" | "admin";
type Signing = "unsigned" | "other-secret" | "stale" | "other-body" | "other-path" | "garbage" | "signed";
const CREDENTIALS: Credential[] = ["none", "read", "admin"];
const SIGNINGS: Signing[] = ["unsigned", "other-secret", "stale", "other-body", "other-path", "garbage", "signed"];

let readKey: string;
let taskId: string;
let keyId: string;
const secrets = () => [TEST_ADMIN_KEY, TEST_METRICS_TOKEN, ...TEST_RUNNER_SECRETS, readKey];

interface Request_ {
  method: string;
  url: string;
  body?: string;
  contentType?: string;
  credential?: Credential;
  signing?: Signing;
}

async function send(r: Request_): Promise<Response> {
  const headers = new Headers();
  if (r.body !== undefined && r.contentType !== "") headers.set("content-type", r.contentType ?? JSON_TYPE);
  if (r.credential === "read") headers.set("authorization", `Bearer ${readKey}`);
  if (r.credential === "admin") headers.set("authorization", `Bearer ${TEST_ADMIN_KEY}`);
  if (r.signing && r.signing !== "unsigned") {
    const url = new URL(r.url, ORIGIN);
    const elsewhere = url.pathname === "/runner/v1/lease" ? "/runner/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa/heartbeat" : "/runner/v1/lease";
    const pathAndQuery = r.signing === "other-path" ? elsewhere : url.pathname + url.search;
    const body = r.signing === "other-body" ? `${r.body ?? ""} ` : (r.body ?? "");
    const secret = r.signing === "other-secret" ? "not-a-runner-secret-0123456789abcdef" : TEST_RUNNER_SECRETS[1];
    const now = r.signing === "stale" ? () => Date.now() - 600_000 : undefined;
    const signed = await signRequest({ secret, method: r.method, pathAndQuery, body, now });
    for (const [k, v] of Object.entries(signed)) headers.set(k, v);
    if (r.signing === "garbage") {
      headers.set(SIGNATURE_HEADER, `v1=${"g".repeat(64)}`);
      headers.set(TIMESTAMP_HEADER, "9".repeat(30));
    }
  }
  return SELF.fetch(`${ORIGIN}${r.url}`, { method: r.method, headers, body: r.body });
}

/** Stack frames, source locations, exception names, internal paths: none may reach a client. */
const LEAKS = [
  /\bat [\w$.<>]+ \(/,
  /\bat (file:|\/|async )/,
  /\.(ts|js|mjs|cjs):\d+/,
  /\b(TypeError|ReferenceError|SyntaxError|RangeError|URIError|InternalError)\b/,
  /node_modules/,
  /\/(edge|runner|api)\/src\//,
  /Durable ?Object/i,
  /workerd/i,
  /\bstack\b/i,
];

interface Expectation {
  mustFail: boolean;
  status?: number;
  lenient?: boolean;
}

async function check(r: Request_, expectation: Expectation): Promise<Response> {
  const res = await send(r);
  const text = res.status === 101 ? "" : await res.text();
  if (res.status === 101) {
    res.webSocket?.accept();
    res.webSocket?.close(1000, "done");
  }
  const context = `${r.method} ${r.url.slice(0, 200)} [${r.credential ?? r.signing ?? "-"}] ${r.contentType ?? ""} ${(r.body ?? "").slice(0, 160)} → ${res.status} ${text.slice(0, 300)}`;
  expect(res.status, context).toBeLessThan(500);
  if (res.status >= 400) {
    expect(res.headers.get("content-type"), context).toMatch(/^application\/json/);
    const envelope = ErrorBody.safeParse(JSON.parse(text));
    expect(envelope.success, context).toBe(true);
    expect(envelope.data!.error.request_id, context).toBe(res.headers.get("x-request-id"));
    for (const leak of LEAKS) expect(envelope.data!.error.message, context).not.toMatch(leak);
  }
  for (const secret of secrets()) expect(text.includes(secret), context).toBe(false);
  if (expectation.lenient) return res;
  if (expectation.mustFail) expect(res.status, context).toBeGreaterThanOrEqual(400);
  if (expectation.status !== undefined) expect(res.status, context).toBe(expectation.status);
  return res;
}

function fillPath(op: Operation, values: Record<string, string>): string {
  return op.path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? "x");
}

/** The real id for a path parameter: a key id under /keys, else the sweep's task. */
function realValues(op: Operation, id = taskId): Record<string, string> {
  return { id: op.path.startsWith("/api/v1/keys") ? keyId : id, deliveryId: "dlv_0000000000000000" };
}

/** What a request with this credential must get, whatever else is wrong with it. */
function authExpectation(op: Operation, credential: Credential | undefined, signing: Signing | undefined, bodyTooLarge: boolean): number | undefined {
  if (bodyTooLarge) return undefined;
  if (op.security === "bearer" && credential === "none") return 401;
  if (op.security === "runner" && signing && signing !== "signed") return 401;
  return undefined;
}

const bigBody = (c: BodyCase) => (c.body?.length ?? 0) > API_BODY_MAX_BYTES;

beforeAll(async () => {
  const read = await createKey({ name: "sweep read-only", scopes: ["tasks:read"] });
  readKey = read.key;
  keyId = (await createKey({ name: "sweep target" })).id;
  taskId = (await createTask({ pool: POOL })).id;
});

describe("OpenAPI-driven bad-input sweep", () => {
  it("finds the operations it sweeps in the document", () => {
    expect(operations.length).toBeGreaterThan(25);
    expect(operations.filter((o) => o.security === "runner").length).toBeGreaterThanOrEqual(6);
    expect(operations.filter((o) => o.schema).length).toBeGreaterThanOrEqual(10);
  });

  for (const op of operations) {
    describe(`${op.method} ${op.path}`, () => {
      it("bodies built from the request schema, and their mutations, with every credential", { timeout: 120_000 }, async () => {
        const real: Realities = {};
        let id = taskId;
        if (op.security === "runner" && op.pathParams.includes("id")) {
          // A task of its own, leased, so the signed cases reach the lease checks.
          const pool = `${POOL}-${op.path.split("/").pop()}`;
          await createTask({ pool });
          const lease = await takeLease({ pool });
          id = lease.task_id;
          real.leaseId = lease.lease_id;
        }
        const url = fillPath(op, realValues(op, id));
        const creds: { credential?: Credential; signing?: Signing }[] =
          op.security === "runner"
            ? SIGNINGS.map((signing) => ({ signing }))
            : op.security === "bearer"
              ? CREDENTIALS.map((credential) => ({ credential }))
              : [{}];
        const cases = bodyCases(op, real);
        for (const [i, c] of cases.entries()) {
          // Every mutation with the credential that reaches validation; the valid body, one
          // mutation in turn and the oversized ones with every other credential too.
          const full = op.security === "runner" ? creds.slice(-1) : op.security === "bearer" ? creds.filter((x) => x.credential === "admin") : creds;
          const sweepAll = c.name === "valid" || i % 8 === 0;
          for (const cred of sweepAll ? creds : full) {
            const status = authExpectation(op, cred.credential, cred.signing, bigBody(c));
            await check(
              { method: op.method, url, body: c.body, contentType: c.contentType, ...cred },
              { mustFail: c.mustFail || status !== undefined, status, lenient: c.lenient && status === undefined },
            );
          }
        }
      });

      it("odd path and query values, random ids and fast-check mutations", { timeout: 120_000 }, async () => {
        const creds = op.security === "runner" ? SIGNINGS : op.security === "bearer" ? CREDENTIALS : [undefined];
        const credArb = fc.constantFrom(...creds);
        const paramArb = op.pathParams.length
          ? fc.oneof(oddSegment, fc.constantFrom("tsk_0000000000aaaaaaaaaaaaaaaa", "key_0000000000000000"))
          : fc.constant("");
        const queryArb = fc.array(fc.tuple(fc.constantFrom(...op.query, "unknown_param", "limit", "__proto__"), oddValue), { maxLength: 3 });
        const real: Realities = { leaseId: "lease-that-does-not-exist" };
        const body = op.schema ? JSON.stringify(baseBody(op, real)) : undefined;
        await fc.assert(
          fc.asyncProperty(credArb, paramArb, queryArb, async (cred, raw, query) => {
            const values = Object.fromEntries(op.pathParams.map((p) => [p, raw]));
            const path = op.pathParams.length ? fillPath(op, values) : op.path;
            const qs = query.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join("&");
            const url = `${path}${qs ? `?${qs}` : ""}`;
            const credential = op.security === "bearer" ? (cred as Credential) : undefined;
            const signing = op.security === "runner" ? (cred as Signing) : undefined;
            // An id that names nothing the sweep made, on a route that takes an id, is a 4xx.
            const mustFail = op.pathParams.length > 0 && op.security !== "public";
            const status = authExpectation(op, credential, signing, false);
            await check({ method: op.method, url, body, credential, signing }, { mustFail: mustFail || status !== undefined, status });
          }),
          { numRuns: RUNS },
        );
        if (op.schema) {
          // Random wrong-typed values in the schema's own fields.
          const schema = resolve(op.schema);
          const fields = Object.keys(schema.properties ?? {});
          const base = baseBody(op, real) as Record<string, Json>;
          await fc.assert(
            fc.asyncProperty(credArb, fc.constantFrom(...fields), fc.jsonValue({ maxDepth: 3 }), async (cred, field, value) => {
              // A number for a long poll's wait is a valid request that waits: not what this is about.
              fc.pre(!(/wait/.test(field) && typeof value === "number"));
              const credential = op.security === "bearer" ? (cred as Credential) : undefined;
              const signing = op.security === "runner" ? (cred as Signing) : undefined;
              const url = fillPath(op, realValues(op));
              const mustFail = refuses(schema.properties[field], value);
              const status = authExpectation(op, credential, signing, false);
              await check(
                { method: op.method, url, body: JSON.stringify({ ...base, [field]: value }), credential, signing },
                { mustFail: mustFail || status !== undefined, status },
              );
            }),
            { numRuns: RUNS },
          );
        }
      });
    });
  }

  it("methods a path does not have are a 4xx envelope, with every credential", { timeout: 120_000 }, async () => {
    const byPath = new Map<string, Set<string>>();
    for (const op of operations) byPath.set(op.path, (byPath.get(op.path) ?? new Set()).add(op.method));
    for (const [path, methods] of byPath) {
      const op = operations.find((o) => o.path === path)!;
      const missing = ["GET", "POST", "PUT", "PATCH", "DELETE"].filter((m) => !methods.has(m));
      for (const method of missing) {
        // Without a key on the first such method only: the key check comes before routing.
        for (const credential of op.security === "bearer" && method === missing[0] ? (["none", "admin"] as const) : (["admin"] as const)) {
          const body = method === "GET" ? undefined : "{}";
          await check(
            { method, url: fillPath(op, realValues(op)), body, credential, signing: op.security === "runner" ? "signed" : undefined },
            { mustFail: true },
          );
        }
      }
    }
  });
});

/** Every runner write after the lease, with `leaseId`, as a runner would send it. */
function runnerWrites(leaseId: string): [string, Record<string, Json>][] {
  return [
    ["heartbeat", { lease_id: leaseId, phase: "running" }],
    ["events", { lease_id: leaseId, batch_seq: 1, events: [{ type: "output", stream: "stdout", text: "intruder\n", offset: 0 }] }],
    ["session", { lease_id: leaseId, session: { cli: "demo", session_id: "s-1", archive: "" } }],
    ["release", { lease_id: leaseId, reason: "not mine" }],
    ["complete", { lease_id: leaseId, outcome: "failed", last_batch_seq: 0, result: null, error: null }],
  ];
}

async function runnerWrite(taskId_: string, op: string, body: Record<string, Json>, signing: Signing = "signed"): Promise<Response> {
  return check({ method: "POST", url: `/runner/v1/tasks/${taskId_}/${op}`, body: JSON.stringify(body), signing }, { mustFail: true });
}

async function statusOf(id: string): Promise<{ status: string; attempt: number }> {
  const res = await SELF.fetch(`${ORIGIN}/api/v1/tasks/${id}`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
  return (await res.json()) as { status: string; attempt: number };
}

describe("runner leases a hostile runner does not hold", () => {
  it("a lease for one task is refused on every write to another, which carries on untouched", { timeout: 60_000 }, async () => {
    const pool = `sweep-lease-${crypto.randomUUID().slice(0, 8)}`;
    await createTask({ pool });
    await createTask({ pool });
    const a = await takeLease({ pool, runner_id: "runner-a" });
    const b = await takeLease({ pool, runner_id: "runner-b" });
    expect(a.task_id).not.toBe(b.task_id);
    for (const [op, body] of runnerWrites(a.lease_id)) {
      const res = await runnerWrite(b.task_id, op, body);
      expect(res.status, op).toBe(409);
    }
    expect(await statusOf(b.task_id)).toMatchObject({ status: "leased", attempt: 1 });
    // The real holder still gets through.
    const ok = await send({
      method: "POST",
      url: `/runner/v1/tasks/${b.task_id}/heartbeat`,
      body: JSON.stringify({ lease_id: b.lease_id, phase: "running" }),
      signing: "signed",
    });
    expect(ok.status).toBe(200);
    const events = await SELF.fetch(`${ORIGIN}/api/v1/tasks/${b.task_id}/events`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
    expect(await events.text()).not.toContain("intruder");
  });

  it("made-up lease ids, and leases on a task nobody leased, are refused on every write", { timeout: 60_000 }, async () => {
    const pool = `sweep-lease-${crypto.randomUUID().slice(0, 8)}`;
    const queued = await createTask({ pool });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ minLength: 1, maxLength: 128 }), fc.constantFrom(`lse_${"a".repeat(32)}`, "null", "0", "*", "%")),
        fc.constantFrom(...runnerWrites("x").map(([op]) => op)),
        async (leaseId, op) => {
          const [, payload] = runnerWrites(leaseId).find(([name]) => name === op)!;
          const res = await runnerWrite(queued.id, op, payload);
          expect(res.status).toBe(409);
        },
      ),
      { numRuns: 6 },
    );
    expect(await statusOf(queued.id)).toMatchObject({ status: "queued" });
  });

  it("a lease given back, or one whose task ended, opens nothing any more", { timeout: 60_000 }, async () => {
    const pool = `sweep-lease-${crypto.randomUUID().slice(0, 8)}`;
    const task = await createTask({ pool });
    const first = await takeLease({ pool });
    const released = await send({
      method: "POST",
      url: `/runner/v1/tasks/${task.id}/release`,
      body: JSON.stringify({ lease_id: first.lease_id, reason: "shutting down" }),
      signing: "signed",
    });
    expect(released.status).toBe(200);
    for (const [op, body] of runnerWrites(first.lease_id)) expect((await runnerWrite(task.id, op, body)).status, op).toBe(409);

    const second = await takeLease({ pool });
    expect(second.task_id).toBe(task.id);
    const done = await send({
      method: "POST",
      url: `/runner/v1/tasks/${task.id}/complete`,
      body: JSON.stringify({ lease_id: second.lease_id, outcome: "failed", last_batch_seq: 0, result: null, error: { code: "cli_failed", message: "x" } }),
      signing: "signed",
    });
    expect(done.status, await done.clone().text()).toBe(200);
    for (const [op, body] of runnerWrites(second.lease_id).filter(([name]) => name !== "complete"))
      expect((await runnerWrite(task.id, op, body)).status, op).toBe(409);
    expect((await statusOf(task.id)).status).toBe("failed");
  });

  it("a request signed for one task's path, or with another method, does not verify on another", { timeout: 60_000 }, async () => {
    const pool = `sweep-lease-${crypto.randomUUID().slice(0, 8)}`;
    await createTask({ pool });
    await createTask({ pool });
    const a = await takeLease({ pool });
    const b = await takeLease({ pool });
    const body = JSON.stringify({ lease_id: b.lease_id, phase: "running" });
    const signedForA = await signRequest({ secret: TEST_RUNNER_SECRETS[0], method: "POST", pathAndQuery: `/runner/v1/tasks/${a.task_id}/heartbeat`, body });
    const signedAsGet = await signRequest({ secret: TEST_RUNNER_SECRETS[0], method: "GET", pathAndQuery: `/runner/v1/tasks/${b.task_id}/heartbeat`, body });
    for (const headers of [signedForA, signedAsGet]) {
      const res = await SELF.fetch(`${ORIGIN}/runner/v1/tasks/${b.task_id}/heartbeat`, {
        method: "POST",
        headers: { "content-type": JSON_TYPE, ...headers },
        body,
      });
      const text = await res.text();
      expect(res.status, text).toBe(401);
      expect(ErrorBody.parse(JSON.parse(text)).error.code).toBe("unauthorized");
    }
  });
});
