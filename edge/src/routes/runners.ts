/**
 * `GET /api/v1/runners` (admin): the runners seen lately, across pools or of one pool, a page
 * at a time. Read from the `PoolRegistry`, where each pool's Dispatcher pushes its runners, in
 * one call: never one call per pool.
 * @module
 */
import type { RunnerList } from "#api/runner-protocol.js";
import { ApiError } from "../api-error.js";
import type { Env } from "../env.js";
import { openApiRoutes } from "../http/openapi-app.js";
import type { AuthVariables } from "../middleware/api-key-auth.js";
import { poolRegistry } from "../registry/pool-registry.js";
import { listRunners } from "./admin.routes.js";
import { methodNotAllowed } from "./method-not-allowed.js";

export const runnerListRoutes = openApiRoutes<{ Bindings: Env; Variables: AuthVariables }>()
  .openapi(listRunners, async (c) => {
    if (!c.get("principal").admin) throw new ApiError("forbidden", "listing runners needs an admin key");
    const { pool, limit, cursor } = c.req.valid("query");
    const after = cursor === undefined ? undefined : { pool: cursor.slice(0, cursor.indexOf(":")), runnerId: cursor.slice(cursor.indexOf(":") + 1) };
    const page = await poolRegistry(c.env).runners({ pool, after, limit });
    const body: RunnerList = { runners: page.runners, next_cursor: page.next && `${page.next.pool}:${page.next.runnerId}` };
    return c.json(body, 200);
  })
  .all("/api/v1/runners", methodNotAllowed("GET"));
