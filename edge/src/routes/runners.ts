/**
 * `GET /api/v1/runners` (admin): every runner seen lately, across pools. The registry names the
 * pools; each pool's Dispatcher lists its own runners (it sees their lease requests).
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
    const pools = await poolRegistry(c.env).pools();
    const lists = await Promise.all(pools.map((pool) => c.env.DISPATCHERS.get(c.env.DISPATCHERS.idFromName(pool)).runners()));
    const body: RunnerList = { runners: lists.flat() };
    return c.json(body, 200);
  })
  .all("/api/v1/runners", methodNotAllowed("GET"));
