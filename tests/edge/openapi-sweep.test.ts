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
 *
 * The generators live in `sweep/`: operations and their schemas (`operations.ts`), bodies
 * (`bodies.ts`), path and query values (`path-values.ts`), sending and the oracle (`oracle.ts`).
 * Runner leases a hostile runner does not hold: `runner-hostile-leases.test.ts`.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { createTask } from "./api-client.js";
import { takeLease } from "./runner-client.js";
import { type Realities, baseBody, bigBody, bodyCases } from "./sweep/bodies.js";
import { type Json, POOL, operations, refuses, resolve } from "./sweep/operations.js";
import {
  CREDENTIALS,
  type Credential,
  SIGNINGS,
  type Signing,
  authExpectation,
  check,
  createSweepFixture,
  fillPath,
  fixture,
  realValues,
} from "./sweep/oracle.js";
import { oddSegment, oddValue } from "./sweep/path-values.js";

const RUNS = 4;

beforeAll(createSweepFixture);

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
        let id = fixture.taskId;
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
          // A body with no fields of its own (GitHub's payloads, checked by signature first) has none to mistype.
          if (fields.length > 0)
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

  it("methods a path does not have are a 4xx envelope, with every credential", { timeout: 240_000 }, async () => {
    const byPath = new Map<string, Set<string>>();
    for (const op of operations) byPath.set(op.path, (byPath.get(op.path) ?? new Set()).add(op.method));
    // Paths side by side (a method a path lacks changes nothing), each path's methods in turn.
    await Promise.all(
      [...byPath].map(async ([path, methods]) => {
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
      }),
    );
  });
});
