/**
 * `GET /api/v1/dead-letters` (admin): webhook deliveries that used up their retry schedule,
 * newest first, from the edge-wide index. Each links to its task's deliveries and to redeliver.
 * @module
 */
import { Hono } from "hono";
import { DeadLettersQuery } from "../../../api/webhooks.js";
import type { Env } from "../env.js";
import { methodNotAllowed } from "./method-not-allowed.js";
import type { AuthVariables } from "../middleware/api-key-auth.js";
import { requireScope } from "../middleware/require-scope.js";
import { validate } from "../read-json.js";
import { deadLetters } from "../webhooks/dead-letters.js";

export const deadLetterRoutes = new Hono<{ Bindings: Env; Variables: AuthVariables }>()
  .get("/", requireScope("admin"), async (c) => {
    const query = validate(c.req.query(), DeadLettersQuery);
    return c.json(await deadLetters(c.env).list(query));
  })
  .all("/", methodNotAllowed("GET"));
