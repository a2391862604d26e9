/**
 * `POST /api/v1/runner-credentials` (admin): a short-lived credential for one pool's runners,
 * derived from the edge's current runner secret (see `api/runner-credential.ts`). Nothing is
 * stored; the mint is audited with the credential's id, never its secret.
 * @module
 */
import { CreateRunnerCredentialRequest, mintRunnerCredential } from "#api/runner-credential.js";
import { ApiError } from "../api-error.js";
import { edgeConfig, type Env } from "../env.js";
import { bodyOf, jsonBody } from "../http/json-body.js";
import { openApiRoutes } from "../http/openapi-app.js";
import type { AuthVariables } from "../middleware/api-key-auth.js";
import { audited, type AuditVariables } from "../middleware/audited.js";
import { requireScope } from "../middleware/require-scope.js";
import { createRunnerCredential } from "./admin.routes.js";
import { methodNotAllowed } from "./method-not-allowed.js";

export const runnerCredentialRoutes = openApiRoutes<{ Bindings: Env; Variables: AuthVariables & AuditVariables }>()
  .openapi(
    {
      ...createRunnerCredential,
      middleware: [audited("runner_credential.create"), requireScope("admin"), jsonBody(CreateRunnerCredentialRequest)] as const,
    },
    async (c) => {
      const request = bodyOf(c, CreateRunnerCredentialRequest);
      // The first secret is the current one; the rest are kept only while runners move off them.
      const runnerSecret = edgeConfig(c.env).runnerSecrets[0];
      if (runnerSecret === undefined) throw new ApiError("unavailable", "no runner secret is configured on this edge");
      const credential = await mintRunnerCredential({ runnerSecret, pool: request.pool, ttlSeconds: request.ttl_seconds });
      c.set("auditTarget", credential.credential_id);
      return c.json(credential, 201, { "Cache-Control": "no-store" });
    },
  )
  .all("/api/v1/runner-credentials", methodNotAllowed("POST"));
