/**
 * Limits failed authentication per client, with an escalating block.
 *
 * - More than `authFailuresPerMinute` 401s from one client in a minute: its requests get 429
 *   until the oldest of those failures is a minute old (`Retry-After` ≤ 60; 60 after a burst).
 * - `authFailuresBeforeBlock` 401s within `authFailureWindowMs`: the client is blocked for
 *   `authBlockMs` (an hour by default), `Retry-After` counting down to the block's end.
 *
 * "One client" is its address when the edge has a trustworthy one (`rate-limit/client-address.ts`).
 * Without one, an address would be the client's own choice — rotating it escapes the count,
 * and one shared "unknown" bucket lets anyone lock everyone out, the admin too — so failures
 * are counted per presented credential instead (by a hash of it; the key itself is never
 * stored or logged): a bad key repeated from any number of addresses is throttled, and a good
 * key is never locked out by others' failures. Requests that present nothing at all share one
 * bucket, which can only ever hold back requests that would fail anyway.
 *
 * Console sign-in (`POST /api/v1/session`) mounts its own guard whose credential is the key in
 * its body, so a bad key counts the same whether it is sent as a bearer key or pasted at
 * sign-in. A console session cookie is the credential of a request without `Authorization`;
 * its failures (expired, tampered, its key revoked) are not counted: a sealed cookie cannot be
 * guessed, and a console left open past its session must not lock its user's address out.
 *
 * A throttled or blocked client gets 429 even with a good key: the key is not even checked.
 * Letting a correct key through would tell a guesser which guess was right, so the block
 * would not slow guessing at all. The cost is that clients sharing an egress IP with an
 * attacker are locked out with it; operators behind such NATs raise the thresholds.
 * Runs before `apiKeyAuth` and counts the 401s it answers.
 * @module
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { sha256Hex } from "#api/signing.js";
import { ApiError } from "../api-error.js";
import { edgeConfig, type Env } from "../env.js";
import { clientAddress } from "../rate-limit/client-address.js";
import { decide } from "../rate-limit/fail-policy.js";
import type { Limiter } from "../rate-limit/limiter.js";
import { limiterForEnv } from "../rate-limit/limiter-for-env.js";
import { logFor } from "../log.js";
import { sessionCookieOf } from "../keys/session-cookie.js";
import { presentedKey } from "./api-key-auth.js";
import { requestLogger } from "./request-log.js";

const MINUTE_MS = 60_000;

/** What a request presents to authenticate: a key, or a session cookie's value. */
type Credential = { kind: "key" | "session"; value: string } | null;

export interface AuthFailureGuardOptions {
  limiter?: (env: Env) => Limiter;
  /** What the request authenticates with; by default its bearer key, else its session cookie. */
  credential?: (c: Context) => Credential;
}

function requestCredential(c: Context): Credential {
  const authorization = c.req.header("authorization");
  const key = presentedKey(authorization);
  if (key !== null) return { kind: "key", value: key };
  const session = authorization === undefined ? sessionCookieOf(c.req.header("cookie")) : null;
  return session === null ? null : { kind: "session", value: session };
}

/** Whom a request's failures count against, and how the refusals name it. */
interface FailureSubject {
  key: string;
  by: "address" | "credential" | "no-credential";
  blocked: string;
  slowDown: string;
}

async function failureSubject(c: Context<{ Bindings: Env }>, credential: Credential): Promise<FailureSubject> {
  const address = clientAddress(c);
  if (address !== null) {
    return {
      key: `ip:${address}`,
      by: "address",
      blocked: "this address is blocked after too many failed authentications",
      slowDown: "too many failed authentications from this address; slow down",
    };
  }
  if (credential === null) {
    return {
      key: "no-credential",
      by: "no-credential",
      blocked: "requests without an API key are blocked after too many of them",
      slowDown: "too many requests without an API key; slow down",
    };
  }
  // Domain-separated, so the limiter never holds the key store's own lookup hash of a key.
  const digest = await sha256Hex(`codeforge-auth-failure-guard:${credential.value}`);
  const what = credential.kind === "key" ? "API key" : "session cookie";
  return {
    key: `${credential.kind}:${digest}`,
    by: "credential",
    blocked: `this ${what} is blocked after too many failed authentications with it`,
    slowDown: `too many failed authentications with this ${what}; slow down`,
  };
}

/**
 * @example app.use("/api/v1/*", authFailureGuard()); app.use("/api/v1/*", apiKeyAuth());
 */
export function authFailureGuard(options: AuthFailureGuardOptions = {}) {
  const limiterOf = options.limiter ?? limiterForEnv;
  const credentialOf = options.credential ?? requestCredential;
  return createMiddleware<{ Bindings: Env }>(async (c, next) => {
    const config = edgeConfig(c.env).rateLimit;
    if (!config.enabled) return next();
    const limiter = limiterOf(c.env);
    const credential = credentialOf(c);
    const subject = await failureSubject(c, credential);
    const check = (key: string, limit: number, windowMs: number, cost: 0 | 1) =>
      decide({
        limiter,
        policy: "auth",
        key: `${key}:${subject.key}`,
        options: { limit, windowMs, cost },
        failClosed: config.failClosed,
        log: requestLogger(c),
      });

    // Look (cost 0) at both before anything else; they are independent, so one round trip.
    const [recent, block] = await Promise.all([
      check("auth-failures-minute", config.authFailuresPerMinute, MINUTE_MS, 0),
      check("auth-block", 1, config.authBlockMs, 0),
    ]);
    if (!block.allowed) {
      throw new ApiError("rate_limited", subject.blocked, undefined, { "Retry-After": String(block.retryAfterSeconds) });
    }
    if (!recent.allowed) {
      throw new ApiError("rate_limited", subject.slowDown, undefined, { "Retry-After": String(recent.retryAfterSeconds) });
    }

    await next();
    // A failed session cookie is not counted (see the module's comment).
    if (c.res.status !== 401 || credential?.kind === "session") return;
    const [, window] = await Promise.all([
      check("auth-failures-minute", config.authFailuresPerMinute, MINUTE_MS, 1),
      check("auth-failures-window", config.authFailuresBeforeBlock, config.authFailureWindowMs, 1),
    ]);
    // This failure filled the window (or found it full): block the client.
    if (!window.degraded && window.remaining === 0) {
      await check("auth-block", 1, config.authBlockMs, 1);
      logFor(c.env).warn("client blocked after repeated authentication failures", {
        request_id: c.get("requestId"),
        blocked_by: subject.by,
        block_seconds: config.authBlockMs / 1_000,
      });
    }
  });
}
