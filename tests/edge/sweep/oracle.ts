/**
 * Sending a sweep request with each kind of credential (no key, a `tasks:read` key, the admin
 * key; runner requests unsigned, wrongly signed, stale, signed over another body or path, or
 * correctly signed), and the oracle every answer must pass: never a 5xx; every error the JSON
 * envelope carrying the response's request id, with no stack trace, source path or secret in it.
 */
import { SELF } from "cloudflare:test";
import { expect } from "vitest";
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signRequest } from "#api/signing.js";
import { createTask, expectSafeAnswer, ORIGIN } from "../api-client.js";
import { TEST_ADMIN_KEY, TEST_METRICS_TOKEN, TEST_RUNNER_SECRETS } from "../credentials.js";
import { createKey } from "../key-client.js";
import { JSON_TYPE, type Operation, POOL } from "./operations.js";

export type Credential = "none" | "read" | "admin";
export type Signing = "unsigned" | "other-secret" | "stale" | "other-body" | "other-path" | "garbage" | "signed";
export const CREDENTIALS: Credential[] = ["none", "read", "admin"];
export const SIGNINGS: Signing[] = ["unsigned", "other-secret", "stale", "other-body", "other-path", "garbage", "signed"];

/** What the sweep creates before it starts (`createSweepFixture`, in a `beforeAll`). */
export const fixture = { readKey: "", taskId: "", keyId: "" };

/** A `tasks:read` key (a secret no answer may show), a key and a task for the ids in paths. */
export async function createSweepFixture(): Promise<void> {
  const read = await createKey({ name: "sweep read-only", scopes: ["tasks:read"] });
  fixture.readKey = read.key;
  fixture.keyId = (await createKey({ name: "sweep target" })).id;
  fixture.taskId = (await createTask({ pool: POOL })).id;
}

const secrets = () => [TEST_ADMIN_KEY, TEST_METRICS_TOKEN, ...TEST_RUNNER_SECRETS, fixture.readKey];

export interface Request_ {
  method: string;
  url: string;
  body?: string;
  contentType?: string;
  credential?: Credential;
  signing?: Signing;
}

export async function send(r: Request_): Promise<Response> {
  const headers = new Headers();
  if (r.body !== undefined && r.contentType !== "") headers.set("content-type", r.contentType ?? JSON_TYPE);
  // GitHub's deliveries come from GitHub's hook ranges (the suite's edge allows only those).
  if (new URL(r.url, ORIGIN).pathname.startsWith("/integrations/github/")) headers.set("cf-connecting-ip", "140.82.112.10");
  if (r.credential === "read") headers.set("authorization", `Bearer ${fixture.readKey}`);
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

export async function check(r: Request_, expectation: Expectation): Promise<Response> {
  const res = await send(r);
  const text = res.status === 101 ? "" : await res.text();
  if (res.status === 101) {
    res.webSocket?.accept();
    res.webSocket?.close(1000, "done");
  }
  const context = `${r.method} ${r.url.slice(0, 200)} [${r.credential ?? r.signing ?? "-"}] ${r.contentType ?? ""} ${(r.body ?? "").slice(0, 160)} → ${res.status} ${text.slice(0, 300)}`;
  const envelope = expectSafeAnswer(res, text, context);
  if (envelope) for (const leak of LEAKS) expect(envelope.error.message, context).not.toMatch(leak);
  for (const secret of secrets()) expect(text.includes(secret), context).toBe(false);
  if (expectation.lenient) return res;
  if (expectation.mustFail) expect(res.status, context).toBeGreaterThanOrEqual(400);
  if (expectation.status !== undefined) expect(res.status, context).toBe(expectation.status);
  return res;
}

export function fillPath(op: Operation, values: Record<string, string>): string {
  return op.path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? "x");
}

/** The real id for a path parameter: a key id under /keys, else the sweep's task. */
export function realValues(op: Operation, id = fixture.taskId): Record<string, string> {
  return { id: op.path.startsWith("/api/v1/keys") ? fixture.keyId : id, deliveryId: "dlv_0000000000000000" };
}

/** What a request with this credential must get, whatever else is wrong with it. */
export function authExpectation(op: Operation, credential: Credential | undefined, signing: Signing | undefined, bodyTooLarge: boolean): number | undefined {
  if (bodyTooLarge) return undefined;
  if (op.security === "bearer" && credential === "none") return 401;
  if (op.security === "runner" && signing && signing !== "signed") return 401;
  // No sweep request carries GitHub's signature: each is refused for that, before its body is read.
  if (op.security === "github") return 401;
  return undefined;
}
