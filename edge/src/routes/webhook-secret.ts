/**
 * The caller's webhook signing secret: read it (it is the key their receiver verifies with)
 * and rotate it. Secrets belong to the key's owner; every task of that owner is signed with it.
 * @module
 */
import { RotateWebhookSecretRequest } from "#api/webhooks.js";
import type { Env } from "../env.js";
import { bodyOf, jsonBody } from "../http/json-body.js";
import { openApiRoutes } from "../http/openapi-app.js";
import { methodNotAllowed } from "./method-not-allowed.js";
import type { AuthVariables } from "../middleware/api-key-auth.js";
import { audited, type AuditVariables } from "../middleware/audited.js";
import { requireScope } from "../middleware/require-scope.js";
import { webhookSecretsFor } from "../webhooks/webhook-secrets.js";
import { getWebhookSecret, rotateWebhookSecret } from "./webhooks.routes.js";

export const webhookSecretRoutes = openApiRoutes<{ Bindings: Env; Variables: AuthVariables & AuditVariables }>()
  .openapi({ ...getWebhookSecret, middleware: [requireScope("tasks:write")] as const }, async (c) => {
    const secret = await webhookSecretsFor(c.env).show(c.get("principal").owner);
    // The response carries a secret: no cache may keep it.
    c.header("Cache-Control", "no-store");
    return c.json(secret, 200);
  })
  .openapi(
    // The body is optional: no body (or an empty one) rotates with the default overlap.
    {
      ...rotateWebhookSecret,
      middleware: [audited("webhook_secret.rotate"), requireScope("tasks:write"), jsonBody(RotateWebhookSecretRequest, { optional: true })] as const,
    },
    async (c) => {
      const request = bodyOf(c, RotateWebhookSecretRequest);
      const secret = await webhookSecretsFor(c.env).rotate(c.get("principal").owner, request.overlap_seconds);
      c.header("Cache-Control", "no-store");
      return c.json(secret, 200);
    },
  )
  .all("/api/v1/webhook-secret", methodNotAllowed("GET"))
  .all("/api/v1/webhook-secret/rotate", methodNotAllowed("POST"));
