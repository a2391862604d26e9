/**
 * Verifies the HMAC signature on every runner request and keeps the raw body for the route.
 *
 * The signature covers the exact body bytes, so the body is read once here, checked, and
 * handed on as `rawBody`; routes parse it from there instead of reading the stream again.
 * It is read with `readBody`, which stops at the route's limit: an unsigned client can make
 * the edge hold at most that many bytes, however much it streams.
 *
 * A request may instead be signed with a runner credential (`api/runner-credential.ts`): its
 * id in `x-codeforge-credential`, its secret derived again here from each runner secret. An
 * expired or malformed one is refused with 401; a good one leaves its pool in
 * `credentialPool`, which the routes hold the request to (403 outside it).
 * @module
 */
import { createMiddleware } from "hono/factory";
import type { z } from "zod";
import { CLI_SESSION_BODY_MAX_BYTES, RUNNER_BODY_MAX_BYTES } from "#api/limits.js";
import { CREDENTIAL_HEADER, credentialSecret, parseCredentialId } from "#api/runner-credential.js";
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyRequest } from "#api/signing.js";
import { ApiError } from "../api-error.js";
import { edgeConfig, type Env } from "../env.js";
import { readBody } from "../http/read-body.js";
import { decodeUtf8, parseJsonText, requireUtf8Charset } from "../http/json-body.js";

export type RunnerVariables = {
  rawBody: Uint8Array;
  /** The pool of the runner credential that signed the request; unset when a runner secret did. */
  credentialPool?: string;
};

/** The verified body of a runner request, parsed as JSON and validated against `schema` (400 otherwise). */
export function signedJson<S extends z.ZodType>(c: { get(key: "rawBody"): Uint8Array }, schema: S): z.infer<S> {
  return parseJsonText(decodeUtf8(c.get("rawBody")), schema);
}

/** The largest body a runner may send to `pathname`: a CLI session upload is bigger than the rest. */
function bodyMaxBytes(pathname: string): number {
  return pathname.endsWith("/session") ? CLI_SESSION_BODY_MAX_BYTES : RUNNER_BODY_MAX_BYTES;
}

/**
 * Refuses unsigned, badly signed and stale runner requests with 401.
 * @example runnerApp.use("*", runnerSignature())
 */
export function runnerSignature(options: { now?: () => number } = {}) {
  return createMiddleware<{ Bindings: Env; Variables: RunnerVariables }>(async (c, next) => {
    const { runnerSecrets } = edgeConfig(c.env);
    if (runnerSecrets.length === 0) throw new ApiError("unavailable", "no runner secret is configured on this edge");
    const url = new URL(c.req.url);
    requireUtf8Charset(c.req.header("content-type"));
    const body = await readBody(c.req.raw, bodyMaxBytes(url.pathname));
    const credential = await credentialSecrets(c.req.header(CREDENTIAL_HEADER), runnerSecrets, (options.now ?? Date.now)());

    const verdict = await verifyRequest({
      secrets: credential?.secrets ?? runnerSecrets,
      method: c.req.method,
      pathAndQuery: url.pathname + url.search,
      body,
      timestampHeader: c.req.header(TIMESTAMP_HEADER),
      signatureHeader: c.req.header(SIGNATURE_HEADER),
      now: options.now,
    });
    if (!verdict.ok) {
      const why = {
        missing: "request is not signed",
        malformed: "request signature or timestamp is malformed",
        expired: "request timestamp is too old or too far in the future",
        mismatch: "request signature does not match",
      }[verdict.reason];
      throw new ApiError("unauthorized", why);
    }
    c.set("rawBody", body);
    if (credential) c.set("credentialPool", credential.pool);
    return next();
  });
}

/** For a request signed with a runner credential: its pool and the secrets it may be signed with. */
async function credentialSecrets(header: string | undefined, runnerSecrets: readonly string[], nowMs: number) {
  if (header === undefined) return undefined;
  const id = parseCredentialId(header.trim());
  if (!id) throw new ApiError("unauthorized", `${CREDENTIAL_HEADER} is not a runner credential id`);
  if (id.expiresAtSeconds * 1_000 <= nowMs) {
    throw new ApiError("unauthorized", `the runner credential expired at ${new Date(id.expiresAtSeconds * 1_000).toISOString()}; mint a new one`);
  }
  return { pool: id.pool, secrets: await Promise.all(runnerSecrets.map((secret) => credentialSecret(secret, id.id))) };
}
