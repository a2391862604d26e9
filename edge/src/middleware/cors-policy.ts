/**
 * CORS for the public API: browsers may call it only from the origins the operator lists in
 * `CORS_ALLOWED_ORIGINS` (none by default), with keys in the `Authorization` header; preflights
 * are answered without a key. Credentials are never allowed (`Access-Control-Allow-Credentials`
 * is not sent), so no other origin can ride the console's session cookie: it works on the
 * edge's own origin only (`session-auth.ts`).
 * @module
 */
import { cors } from "hono/cors";
import { edgeConfig, type Env } from "../env.js";

/** Browsers may cache a preflight answer this long. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * @example app.use("/api/*", corsPolicy())
 */
export function corsPolicy() {
  return cors({
    origin: (origin, c) => (edgeConfig(c.env as Env).corsAllowedOrigins.includes(origin) ? origin : null),
    allowMethods: ["GET", "POST", "OPTIONS"],
    allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID", "X-Request-Id"],
    exposeHeaders: ["X-Request-Id", "Location", "Idempotent-Replayed", "Retry-After", "RateLimit", "RateLimit-Policy"],
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
  });
}
