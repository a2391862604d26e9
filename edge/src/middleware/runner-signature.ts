/**
 * Verifies the HMAC signature on every runner request and keeps the raw body for the route.
 *
 * The signature covers the exact body bytes, so the body is read once here, checked, and
 * handed on as `rawBody`; routes parse it from there instead of reading the stream again.
 * @module
 */
import { createMiddleware } from "hono/factory";
import { CLI_SESSION_BODY_MAX_BYTES, RUNNER_BODY_MAX_BYTES } from "../../../api/limits.js";
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyRequest } from "../../../api/signing.js";
import { ApiError } from "../api-error.js";
import { edgeConfig, type Env } from "../env.js";

export type RunnerVariables = { rawBody: Uint8Array };

const decoder = new TextDecoder();

/** Body of a verified runner request as text. */
export function rawBodyText(body: Uint8Array): string {
  return decoder.decode(body);
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
    const maxBytes = bodyMaxBytes(new URL(c.req.url).pathname);
    const declared = Number(c.req.header("content-length") ?? "0");
    if (declared > maxBytes) throw new ApiError("payload_too_large", "runner request body is too large");
    const body = new Uint8Array(await c.req.arrayBuffer());
    if (body.byteLength > maxBytes) throw new ApiError("payload_too_large", "runner request body is too large");

    const url = new URL(c.req.url);
    const verdict = await verifyRequest({
      secrets: runnerSecrets,
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
    return next();
  });
}
