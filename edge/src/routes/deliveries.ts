/**
 * A task's webhook deliveries: list them with every attempt, and replay one.
 * Each handler calls one task-object method; the routes are defined in `webhooks.routes.ts`.
 * @module
 */
import type { Env } from "../env.js";
import { openApiRoutes } from "../http/openapi-app.js";
import { methodNotAllowed } from "./method-not-allowed.js";
import type { AuthVariables, Principal } from "../middleware/api-key-auth.js";
import { audited, type AuditVariables } from "../middleware/audited.js";
import { requireScope } from "../middleware/require-scope.js";
import { taskStub, unwrap } from "../task-stub.js";
import type { Viewer } from "../task/task-rpc.js";
import { listTaskDeliveries, redeliver } from "./webhooks.routes.js";

const viewerOf = (p: Principal): Viewer => ({ owner: p.owner, admin: p.admin });

// A delivery id that cannot exist is a 404 without waking the task (see `DeliveryParams`).
export const deliveryRoutes = openApiRoutes<{ Bindings: Env; Variables: AuthVariables & AuditVariables }>()
  .openapi({ ...listTaskDeliveries, middleware: [requireScope("tasks:read")] as const }, async (c) => {
    const list = unwrap(await taskStub(c.env, c.req.valid("param").id).deliveries(viewerOf(c.get("principal"))));
    return c.json(list, 200);
  })
  .openapi({ ...redeliver, middleware: [audited("webhook.redeliver", (c) => c.req.param("id")), requireScope("tasks:write")] as const }, async (c) => {
    const { id, deliveryId } = c.req.valid("param");
    const delivery = unwrap(await taskStub(c.env, id).redeliver(viewerOf(c.get("principal")), deliveryId));
    return c.json(delivery, 202);
  })
  .all("/api/v1/tasks/:id/deliveries", methodNotAllowed("GET"))
  .all("/api/v1/tasks/:id/deliveries/:deliveryId/redeliver", methodNotAllowed("POST"));
