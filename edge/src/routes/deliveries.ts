/**
 * A task's webhook deliveries: list them with every attempt, and replay one.
 * Mounted under `/api/v1/tasks`; each handler calls one task-object method.
 * @module
 */
import { Hono } from "hono";
import type { Env } from "../env.js";
import { methodNotAllowed } from "./method-not-allowed.js";
import type { AuthVariables, Principal } from "../middleware/api-key-auth.js";
import { audited, type AuditVariables } from "../middleware/audited.js";
import { requireScope } from "../middleware/require-scope.js";
import { taskStub, unwrap } from "../task-stub.js";
import type { Viewer } from "../task/task-rpc.js";

const viewerOf = (p: Principal): Viewer => ({ owner: p.owner, admin: p.admin });

/** Message ids as the edge makes them (`msg_` + 26 base32 characters); anything else is a 404 without waking the task. */
const DELIVERY_ID = /^msg_[0-9a-z]{26}$/;

export const deliveryRoutes = new Hono<{ Bindings: Env; Variables: AuthVariables & AuditVariables }>()
  .get("/:id/deliveries", requireScope("tasks:read"), async (c) => {
    const list = unwrap(await taskStub(c.env, c.req.param("id")).deliveries(viewerOf(c.get("principal"))));
    return c.json(list);
  })
  .post("/:id/deliveries/:deliveryId/redeliver", audited("webhook.redeliver", (c) => c.req.param("id")), requireScope("tasks:write"), async (c) => {
    const stub = taskStub(c.env, c.req.param("id"));
    const deliveryId = c.req.param("deliveryId");
    const delivery = unwrap(
      DELIVERY_ID.test(deliveryId) ? await stub.redeliver(viewerOf(c.get("principal")), deliveryId) : { ok: false, code: "not_found", message: "delivery not found" },
    );
    return c.json(delivery, 202);
  })
  .all("/:id/deliveries", methodNotAllowed("GET"))
  .all("/:id/deliveries/:deliveryId/redeliver", methodNotAllowed("POST"));
