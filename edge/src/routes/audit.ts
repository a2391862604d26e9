/**
 * `GET /api/v1/audit` (`admin` scope): the audit log, newest first, filtered by actor,
 * action, target and time, paged with a cursor.
 * @module
 */
import { Hono } from "hono";
import { AuditQuery } from "../../../api/audit.js";
import { auditLogOf } from "../audit/audit-log-object.js";
import type { Env } from "../env.js";
import type { AuthVariables } from "../middleware/api-key-auth.js";
import { requireScope } from "../middleware/require-scope.js";
import { validate } from "../read-json.js";
import { methodNotAllowed } from "./method-not-allowed.js";

export const auditRoutes = new Hono<{ Bindings: Env; Variables: AuthVariables }>()
  .get("/", requireScope("admin"), async (c) => {
    const query = validate(c.req.query(), AuditQuery);
    return c.json(await auditLogOf(c.env).query(query));
  })
  .all("/", methodNotAllowed("GET"));
