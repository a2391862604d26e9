/**
 * The caller's webhook signing secret: read it (it is the key their receiver verifies with)
 * and rotate it. Secrets belong to the key's owner; every task of that owner is signed with it.
 * @module
 */
import { Hono } from "hono";
import { RotateWebhookSecretRequest } from "../../../api/webhooks.js";
import type { Env } from "../env.js";
import { methodNotAllowed } from "./method-not-allowed.js";
import type { AuthVariables } from "../middleware/api-key-auth.js";
import { audited, type AuditVariables } from "../middleware/audited.js";
import { requireScope } from "../middleware/require-scope.js";
import { readOptionalJson } from "../read-json.js";
import { webhookSecretsFor } from "../webhooks/webhook-secrets.js";

export const webhookSecretRoutes = new Hono<{ Bindings: Env; Variables: AuthVariables & AuditVariables }>()
  .get("/", requireScope("tasks:write"), async (c) => {
    const secret = await webhookSecretsFor(c.env).show(c.get("principal").owner);
    // The response carries a secret: no cache may keep it.
    c.header("Cache-Control", "no-store");
    return c.json(secret);
  })
  .post("/rotate", audited("webhook_secret.rotate"), requireScope("tasks:write"), async (c) => {
    // The body is optional: no body (or an empty one) rotates with the default overlap.
    const request = await readOptionalJson(c, RotateWebhookSecretRequest);
    const secret = await webhookSecretsFor(c.env).rotate(c.get("principal").owner, request.overlap_seconds);
    c.header("Cache-Control", "no-store");
    return c.json(secret);
  })
  .all("/", methodNotAllowed("GET"))
  .all("/rotate", methodNotAllowed("POST"));
