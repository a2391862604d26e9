/**
 * The admin API that maps installations of the GitHub App to keys (`admin` scope): a task
 * started from an installation's repositories is owned by its key and counts against the key's
 * limits. Mappings live in the installation's own object (`github/installation-object.ts`).
 * @module
 */
import { LinkGitHubInstallationRequest } from "#api/github.js";
import type { GitHubInstallationLink } from "#api/github.js";
import { ApiError } from "../api-error.js";
import { edgeConfig, type Env } from "../env.js";
import { type InstallationLink, installationOf } from "../github/installation-object.js";
import { principalOfKey } from "../github/key-principal.js";
import { bodyOf, jsonBody } from "../http/json-body.js";
import { openApiRoutes } from "../http/openapi-app.js";
import type { AuthVariables } from "../middleware/api-key-auth.js";
import { audited, type AuditVariables } from "../middleware/audited.js";
import { requireScope } from "../middleware/require-scope.js";
import { getGitHubInstallation, linkGitHubInstallation, unlinkGitHubInstallation } from "./github.routes.js";
import { methodNotAllowed } from "./method-not-allowed.js";

const view = (link: InstallationLink): GitHubInstallationLink => ({
  installation_id: link.installationId,
  key_id: link.keyId,
  linked_by: link.linkedBy,
  linked_at: new Date(link.linkedAt).toISOString(),
});

const notMapped = () => new ApiError("not_found", "this installation is not mapped to a key");

/** The GitHub App must be configured for its installations to mean anything. */
function requireGitHub(env: Env): void {
  if (!edgeConfig(env).github) throw new ApiError("not_found", "the GitHub App is not configured on this edge (see docs/github.md)");
}

const installationTarget = (c: { req: { param(name: string): string | undefined } }) => c.req.param("installation_id");

export const githubInstallationRoutes = openApiRoutes<{ Bindings: Env; Variables: AuthVariables & AuditVariables }>()
  .openapi(
    {
      ...linkGitHubInstallation,
      middleware: [audited("github.installation.link", installationTarget), requireScope("admin"), jsonBody(LinkGitHubInstallationRequest)] as const,
    },
    async (c) => {
      requireGitHub(c.env);
      const { installation_id } = c.req.valid("param");
      const { key_id } = bodyOf(c, LinkGitHubInstallationRequest);
      // A key that could not start tasks is refused now rather than at the first comment.
      try {
        await principalOfKey(c.env, key_id);
      } catch (err) {
        if (err instanceof ApiError) throw new ApiError("validation_failed", err.message, "key_id");
        throw err;
      }
      const link = await installationOf(c.env, installation_id).link({ installationId: installation_id, keyId: key_id, by: c.get("principal").keyId });
      return c.json(view(link), 200);
    },
  )
  .openapi({ ...getGitHubInstallation, middleware: [requireScope("admin")] as const }, async (c) => {
    requireGitHub(c.env);
    const link = await installationOf(c.env, c.req.valid("param").installation_id).get();
    if (!link) throw notMapped();
    return c.json(view(link), 200);
  })
  .openapi(
    { ...unlinkGitHubInstallation, middleware: [audited("github.installation.unlink", installationTarget), requireScope("admin")] as const },
    async (c) => {
      requireGitHub(c.env);
      const link = await installationOf(c.env, c.req.valid("param").installation_id).unlink();
      if (!link) throw notMapped();
      return c.json(view(link), 200);
    },
  )
  .all("/api/v1/github/installations/:installation_id", methodNotAllowed("GET, PUT, DELETE"));
