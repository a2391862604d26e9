/**
 * `GET /api/v1/audit` (`admin` scope): the audit log, newest first, filtered by actor,
 * action, target and time, paged with a cursor.
 * @module
 */
import { auditLogOf } from "../audit/audit-log-object.js";
import type { Env } from "../env.js";
import { openApiRoutes } from "../http/openapi-app.js";
import type { AuthVariables } from "../middleware/api-key-auth.js";
import { requireScope } from "../middleware/require-scope.js";
import { listAudit } from "./admin.routes.js";
import { methodNotAllowed } from "./method-not-allowed.js";

export const auditRoutes = openApiRoutes<{ Bindings: Env; Variables: AuthVariables }>()
  .openapi({ ...listAudit, middleware: [requireScope("admin")] as const }, async (c) => {
    return c.json(await auditLogOf(c.env).query(c.req.valid("query")), 200);
  })
  .all("/api/v1/audit", methodNotAllowed("GET"));
