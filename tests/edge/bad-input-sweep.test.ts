/**
 * Property-based: a sweep of bad input over every public route — tasks, keys, audit, events
 * and stream queries, cancel, follow-ups — generated with fast-check: missing and unknown fields, wrong
 * types, malformed JSON, wrong content types, oversized bodies, awkward unicode (lone
 * surrogates, RTL overrides, NUL, combining marks) and header values with CR/LF.
 *
 * The oracle is what a client may rely on: never a 5xx; an input that is wrong by
 * construction gets a 4xx in the JSON envelope carrying the response's request id; an input
 * that may happen to be valid (awkward but legal unicode, a query within range) gets either
 * that or a 2xx. Run counts are modest so the sweep takes seconds; a failure prints the
 * shrunk input that caused it.
 */
import { SELF } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ErrorBody } from "#api/errors.js";
import { API_BODY_MAX_BYTES } from "#api/limits.js";
import { createTask, expectSafeAnswer, ORIGIN, taskSpec } from "./api-client.js";
import { TEST_ADMIN_KEY } from "./credentials.js";
import { createKey } from "./key-client.js";

const RUNS = 40;
const POOL = "bad-input-sweep";

interface Probe {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Unicode that has broken parsers, databases and terminals before. */
const awkward = fc.constantFrom(
  "\ud800",
  "\udfff",
  "a\ud83dz",
  "\u202eevil\u202c",
  "\u200f\u05e9\u05dc\u05d5\u05dd",
  "nul\u0000byte",
  "e\u0301\u0301\u0301",
  "\ufeffbom",
  "\uffff\ufffe",
  "😀".repeat(50),
  "\u2028\u2029",
  "%00%0d%0a",
  "../../etc/passwd",
  "'; DROP TABLE task; --",
);
const awkwardString = fc.oneof(
  awkward,
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.tuple(fc.string(), awkward, fc.string()).map((p) => p.join("")),
);

/** A JSON value of another type than `typeOf` names. */
function wrongTypeFor(value: unknown): fc.Arbitrary<unknown> {
  const kinds: fc.Arbitrary<unknown>[] = [];
  if (typeof value !== "string") kinds.push(awkwardString);
  if (typeof value !== "number") kinds.push(fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })));
  if (typeof value !== "boolean") kinds.push(fc.boolean());
  if (value !== null) kinds.push(fc.constant(null));
  if (!Array.isArray(value)) kinds.push(fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }));
  if (typeof value !== "object" || value === null || Array.isArray(value))
    kinds.push(fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }));
  return fc.oneof(...kinds);
}

/** Bodies that are wrong by construction, derived from a valid one. */
function brokenBodies(valid: Record<string, unknown>, required: readonly string[]): fc.Arbitrary<string> {
  const fields = Object.keys(valid);
  const missing = fc.constantFrom(...required, null).map((field) => {
    const copy = { ...valid };
    if (field === null) return JSON.stringify({});
    delete copy[field];
    return JSON.stringify(copy);
  });
  const extra = fc
    .tuple(
      fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !fields.includes(k) && k !== "__proto__"),
      fc.jsonValue({ maxDepth: 2 }),
    )
    .map(([k, v]) => JSON.stringify({ ...valid, [k]: v }));
  const wrongType = fc.constantFrom(...fields).chain((field) => wrongTypeFor(valid[field]).map((v) => JSON.stringify({ ...valid, [field]: v })));
  const malformed = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom("{", "[", '{"a":', "{'a':1}", '{"a":1,}', "NaN", "\u0000{}")).filter((text) => {
    try {
      JSON.parse(text);
      return false;
    } catch {
      return true;
    }
  });
  const notAnObject = fc.constantFrom("[]", "null", "42", '"text"', "true");
  return fc.oneof(...(required.length ? [missing] : []), extra, wrongType, malformed, notAnObject);
}

/** Percent-encodes a path segment; lone surrogates go out as the (invalid) UTF-8 a sloppy client sends. */
function percentEncode(raw: string): string {
  let out = "";
  for (const ch of raw) {
    const u = ch.charCodeAt(0);
    if (ch.length === 1 && u >= 0xd800 && u <= 0xdfff) {
      out += [0xed, 0xa0 | ((u >> 6) & 0x1f), 0x80 | (u & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join("");
    } else {
      out += encodeURIComponent(ch);
    }
  }
  return out;
}

/** Sends a probe with the admin key unless it sets its own authorization. */
async function send(probe: Probe): Promise<Response> {
  const headers = new Headers(probe.headers);
  if (!headers.has("authorization")) headers.set("authorization", `Bearer ${TEST_ADMIN_KEY}`);
  return SELF.fetch(`${ORIGIN}${probe.path}`, { method: probe.method, headers, body: probe.body });
}

/** The oracle. `mustFail`: the input is wrong by construction, so only a 4xx is right. */
async function check(probe: Probe, mustFail: boolean): Promise<void> {
  const res = await send(probe);
  const text = await res.text();
  const context = `${probe.method} ${probe.path} ${JSON.stringify(probe.headers ?? {})} ${(probe.body ?? "").slice(0, 200)} → ${res.status} ${text.slice(0, 300)}`;
  if (expectSafeAnswer(res, text, context) === null) expect(mustFail, context).toBe(false);
}

const JSON_TYPE = { "content-type": "application/json" };
const contentTypes = fc.constantFrom(
  "text/plain",
  "application/x-www-form-urlencoded",
  "application/jsonp",
  "multipart/form-data; boundary=x",
  "",
  "application/json x",
);

let taskId: string;
let keyId: string;

beforeAll(async () => {
  taskId = (await createTask({ pool: POOL })).id;
  keyId = (await createKey()).id;
});

describe("bad-input sweep", () => {
  it("POST /api/v1/tasks: broken bodies are 4xx", async () => {
    const valid = taskSpec({ pool: POOL }) as Record<string, unknown>;
    await fc.assert(
      fc.asyncProperty(brokenBodies(valid, ["repo", "prompt", "cli"]), async (body) =>
        check({ method: "POST", path: "/api/v1/tasks", headers: JSON_TYPE, body }, true),
      ),
      { numRuns: RUNS },
    );
  });

  it("POST /api/v1/tasks/:id/instructions: broken bodies are 4xx, awkward unicode never a 5xx", async () => {
    const valid = { prompt: "Go on", model: "m-1", timeout_seconds: 60, env: { K: "v" } };
    await fc.assert(
      fc.asyncProperty(brokenBodies(valid, ["prompt"]), async (body) =>
        check({ method: "POST", path: `/api/v1/tasks/${taskId}/instructions`, headers: JSON_TYPE, body }, true),
      ),
      { numRuns: RUNS },
    );
    await fc.assert(
      fc.asyncProperty(awkwardString, fc.constantFrom("prompt", "model"), async (text, field) => {
        const body = JSON.stringify({ prompt: "Go on", [field]: text });
        await check({ method: "POST", path: `/api/v1/tasks/${taskId}/instructions`, headers: JSON_TYPE, body }, false);
      }),
      { numRuns: RUNS },
    );
  });

  it("POST /api/v1/tasks: awkward unicode in every string field is a 2xx or a 4xx, never a 5xx", async () => {
    const fields = fc.record({
      prompt: awkwardString,
      model: awkwardString,
      ref: awkwardString,
      url: awkwardString,
      metaKey: awkwardString,
      metaValue: awkwardString,
      label: awkwardString,
    });
    await fc.assert(
      fc.asyncProperty(fields, fc.constantFrom("prompt", "model", "ref", "url", "metadata", "labels"), async (f, which) => {
        const spec: Record<string, unknown> = taskSpec({ pool: POOL });
        if (which === "prompt") spec.prompt = f.prompt;
        if (which === "model") spec.model = f.model;
        if (which === "ref") spec.repo = { url: "file:///srv/repos/demo.git", ref: f.ref };
        if (which === "url") spec.repo = { url: f.url };
        if (which === "metadata") spec.metadata = { [f.metaKey]: f.metaValue };
        if (which === "labels") spec.labels = [f.label];
        await check({ method: "POST", path: "/api/v1/tasks", headers: JSON_TYPE, body: JSON.stringify(spec) }, false);
      }),
      { numRuns: RUNS },
    );
  });

  it("POST /api/v1/tasks and /keys: a wrong content type is 415, whatever the body", async () => {
    await fc.assert(
      fc.asyncProperty(contentTypes, fc.constantFrom("/api/v1/tasks", "/api/v1/keys"), async (type, path) => {
        const body = path === "/api/v1/tasks" ? JSON.stringify(taskSpec({ pool: POOL })) : JSON.stringify({ name: "x", scopes: ["admin"] });
        const headers: Record<string, string> = type === "" ? {} : { "content-type": type };
        await check({ method: "POST", path, headers, body }, true);
      }),
      { numRuns: 15 },
    );
  });

  it("oversized bodies are 413 on every POST route", async () => {
    const paths = [
      "/api/v1/tasks",
      "/api/v1/keys",
      `/api/v1/keys/key_0000000000000000/rotate`,
      `/api/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa/cancel`,
      `/api/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa/instructions`,
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), fc.integer({ min: 1, max: 4_096 }), async (path, over) => {
        const body = `{"prompt":"${"x".repeat(API_BODY_MAX_BYTES + over)}"}`;
        const res = await send({ method: "POST", path, headers: JSON_TYPE, body });
        expect(res.status).toBe(413);
        expect(ErrorBody.parse(await res.json()).error.code).toBe("payload_too_large");
      }),
      { numRuns: 4 },
    );
  });

  it("POST /api/v1/keys and /rotate: broken bodies are 4xx", async () => {
    const validKey = { name: "sweep", scopes: ["tasks:read"], allowed_cidrs: ["10.0.0.0/8"], limits: { max_queued_tasks: 5 } };
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          brokenBodies(validKey, ["name", "scopes"]).map((body) => ({ path: "/api/v1/keys", body })),
          // An empty body or `{}` is a valid rotation (defaults apply): leave those out.
          brokenBodies({ overlap_seconds: 60 }, [])
            .filter((b) => !/^\s*(\{\s*\}|)\s*$/.test(b))
            .map((body) => ({ path: `/api/v1/keys/${keyId}/rotate`, body })),
        ),
        async ({ path, body }) => check({ method: "POST", path, headers: JSON_TYPE, body }, true),
      ),
      { numRuns: RUNS },
    );
  });

  it("query strings of the task list, events, stream, keys and audit: never a 5xx; unknown or malformed parameters are 4xx", async () => {
    const known = ["since", "limit", "cursor", "actor", "action", "target", "until", "status", "owner"];
    const value = fc.oneof(awkwardString, fc.integer().map(String), fc.constantFrom("-1", "1e3", "0x10", "", "9".repeat(30), "NaN", "Infinity"));
    const paths = () => ["/api/v1/tasks", `/api/v1/tasks/${taskId}/events`, `/api/v1/tasks/${taskId}/stream`, "/api/v1/keys", "/api/v1/audit"];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths()), fc.constantFrom(...known), value, fc.boolean(), async (path, name, v, unknown) => {
        const params = new URLSearchParams({ [unknown ? `x_${name}` : name]: v });
        const headers: Record<string, string> = path.endsWith("/stream") ? { upgrade: "websocket" } : {};
        const res = await send({ method: "GET", path: `${path}?${params}`, headers });
        const text = res.status === 101 ? "" : await res.text();
        const context = `GET ${path}?${params} → ${res.status} ${text.slice(0, 200)}`;
        expect(res.status, context).toBeLessThan(500);
        if (res.status === 101) {
          res.webSocket?.accept();
          res.webSocket?.close(1000, "done");
          expect(unknown, context).toBe(false);
          return;
        }
        if (unknown) expect(res.status, context).toBeGreaterThanOrEqual(400);
        if (res.status >= 400) expect(ErrorBody.parse(JSON.parse(text)).error.request_id, context).toBe(res.headers.get("x-request-id"));
      }),
      { numRuns: RUNS },
    );
  });

  it("path ids of tasks and keys: anything that is not an existing id is a 404 (or 405), never a 5xx", async () => {
    const id = fc.oneof(
      awkwardString,
      fc.string({ maxLength: 40 }),
      fc.constantFrom("tsk_", "key_", `tsk_${"z".repeat(26)}`, `key_${"0".repeat(17)}`, "%2e%2e", "..", "%00"),
    );
    const route = fc.constantFrom(
      { method: "GET", path: (x: string) => `/api/v1/tasks/${x}` },
      { method: "GET", path: (x: string) => `/api/v1/tasks/${x}/events` },
      { method: "POST", path: (x: string) => `/api/v1/tasks/${x}/cancel` },
      { method: "POST", path: (x: string) => `/api/v1/tasks/${x}/instructions` },
      { method: "GET", path: (x: string) => `/api/v1/keys/${x}` },
      { method: "POST", path: (x: string) => `/api/v1/keys/${x}/revoke` },
      { method: "POST", path: (x: string) => `/api/v1/keys/${x}/rotate` },
    );
    await fc.assert(
      fc.asyncProperty(route, id, async (r, raw) => {
        const path = r.path(percentEncode(raw));
        await check({ method: r.method, path }, true);
      }),
      { numRuns: RUNS },
    );
  });

  it("header values with CR/LF never reach the edge, and odd but legal ones are answered without a 5xx", async () => {
    const headerValue = fc.oneof(
      fc
        .tuple(fc.string({ maxLength: 10 }), fc.constantFrom("\r\n", "\n", "\r", "\u0000"), fc.constantFrom("Set-Cookie: a=b", "X-Injected: 1", ""))
        .map((p) => p.join("")),
      fc.string({ unit: "binary-ascii", maxLength: 300 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("idempotency-key", "x-request-id", "authorization", "content-type", "cf-connecting-ip", "origin"),
        headerValue,
        async (name, value) => {
          let headers: Headers;
          try {
            headers = new Headers({ [name]: value, "content-type": "application/json" });
          } catch {
            // The platform refuses CR, LF and NUL in header values before any request is sent.
            expect(value).toMatch(/[\r\n\0]|[^\x00-\xff]/);
            return;
          }
          if (name !== "content-type") headers.set("content-type", "application/json");
          const probe: Probe = { method: "POST", path: "/api/v1/tasks", headers: Object.fromEntries(headers), body: JSON.stringify(taskSpec({ pool: POOL })) };
          const res = await send(probe);
          const text = await res.text();
          const context = `${name}: ${JSON.stringify(value)} → ${res.status} ${text.slice(0, 200)}`;
          expect(res.status, context).toBeLessThan(500);
          for (const [, v] of res.headers) expect(v, context).not.toMatch(/[\r\n]/);
          const echoed = res.headers.get("x-request-id") ?? "";
          expect(echoed, context).toMatch(/^[\x21-\x7e]{1,255}$/);
          if (res.status >= 400) expect(ErrorBody.parse(JSON.parse(text)).error.request_id, context).toBe(echoed);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
