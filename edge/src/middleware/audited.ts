/**
 * Records a route's outcome in the audit log: who (key id), from where (the client address, when the edge has a trustworthy one), which
 * request, what action on which target, and whether it worked (with the error code if not).
 *
 * It runs around the handler, so a refusal (403 for a missing scope, 400 for bad input, 404)
 * is recorded as a failure just like a success is recorded as one. The handler names the
 * target once it knows it (`c.set("auditTarget", id)`); otherwise `target(c)` is used.
 * @module
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AuditAction } from "#api/audit.js";
import { ERROR_STATUS, type ErrorCode } from "#api/errors.js";
import { ApiError } from "../api-error.js";
import { recordAudit } from "../audit/audit-record.js";
import type { Env } from "../env.js";
import { waitUntilOf } from "../http/wait-until.js";
import { clientAddress } from "../rate-limit/client-address.js";
import type { AuthVariables } from "./api-key-auth.js";

export type AuditVariables = { auditTarget: string; requestId: string };

function errorCodeOf(status: number, error: Error | undefined): ErrorCode {
  if (error instanceof ApiError) return error.code;
  const known = (Object.entries(ERROR_STATUS) as [ErrorCode, number][]).find(([, s]) => s === status);
  return known ? known[0] : "internal_error";
}

/**
 * Audits every request to the route as `action`.
 * @example taskRoutes.post("/:id/cancel", audited("task.cancel", (c) => c.req.param("id")), requireScope("tasks:write"), handler)
 */
export function audited(action: AuditAction, target?: (c: Context) => string | undefined) {
  return createMiddleware<{ Bindings: Env; Variables: AuthVariables & AuditVariables }>(async (c, next) => {
    await next();
    const status = c.res.status;
    // Outside a request (app.request() in a unit test) the record's promise still runs to the end.
    recordAudit(c.env, waitUntilOf(c) ?? (() => {}), {
      actor: c.get("principal").keyId,
      clientIp: clientAddress(c),
      requestId: c.get("requestId") ?? "unknown",
      action,
      target: c.get("auditTarget") ?? target?.(c) ?? null,
      outcome: status < 400 ? "success" : "failure",
      errorCode: status < 400 ? null : errorCodeOf(status, c.error),
    });
  });
}
