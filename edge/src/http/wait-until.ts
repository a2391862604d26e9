/**
 * The request's `waitUntil`: work handed to the runtime to finish after the response (audit
 * records, metric flushes, rate-limit releases), so none of it adds to the request's latency.
 * @module
 */
import type { Context } from "hono";

/** `ctx.waitUntil` of the request, or null outside one (`app.request()` in a test gives none). */
export function waitUntilOf(c: Pick<Context, "executionCtx">): ((p: Promise<unknown>) => void) | null {
  try {
    const ctx = c.executionCtx;
    return (p) => ctx.waitUntil(p);
  } catch {
    return null;
  }
}
