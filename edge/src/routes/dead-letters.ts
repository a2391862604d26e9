/**
 * `GET /api/v1/dead-letters` (admin): webhook deliveries that used up their retry schedule,
 * newest first, from the edge-wide index. Each links to its task's deliveries and to redeliver.
 * @module
 */
import type { Env } from "../env.js";
import { openApiRoutes } from "../http/openapi-app.js";
import { methodNotAllowed } from "./method-not-allowed.js";
import type { AuthVariables } from "../middleware/api-key-auth.js";
import { requireScope } from "../middleware/require-scope.js";
import { deadLetters } from "../webhooks/dead-letters.js";
import { listDeadLetters } from "./webhooks.routes.js";

export const deadLetterRoutes = openApiRoutes<{ Bindings: Env; Variables: AuthVariables }>()
  .openapi({ ...listDeadLetters, middleware: [requireScope("admin")] as const }, async (c) => {
    return c.json(await deadLetters(c.env).list(c.req.valid("query")), 200);
  })
  .all("/api/v1/dead-letters", methodNotAllowed("GET"));
