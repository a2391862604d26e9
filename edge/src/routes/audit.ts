/**
 * `GET /api/v1/audit` (`admin` scope): the audit log, newest first, filtered by actor,
 * action, target and time, paged with a cursor, merged across its day shards
 * (`audit/audit-query.ts`); and `GET /api/v1/audit/export`, a time range as NDJSON.
 * @module
 */
import { exportAuditShards } from "../audit/audit-export.js";
import { queryAuditShards } from "../audit/audit-query.js";
import type { Env } from "../env.js";
import { openApiRoutes } from "../http/openapi-app.js";
import type { AuthVariables } from "../middleware/api-key-auth.js";
import { requireScope } from "../middleware/require-scope.js";
import { exportAudit, listAudit } from "./admin.routes.js";
import { methodNotAllowed } from "./method-not-allowed.js";

export const auditRoutes = openApiRoutes<{ Bindings: Env; Variables: AuthVariables }>()
  .openapi({ ...listAudit, middleware: [requireScope("admin")] as const }, async (c) => {
    return c.json(await queryAuditShards(c.env, c.req.valid("query"), Date.now()), 200);
  })
  .openapi({ ...exportAudit, middleware: [requireScope("admin")] as const }, (c) => {
    const stream = exportAuditShards(c.env, c.req.valid("query"), Date.now());
    // A stream, not a typed JSON body: the definition documents it as NDJSON text.
    return c.body(stream, 200, { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-store" }) as never;
  })
  .all("/api/v1/audit", methodNotAllowed("GET"))
  .all("/api/v1/audit/export", methodNotAllowed("GET"));
