/**
 * Route definitions of the GitHub App: the webhook GitHub delivers to, and the admin API that
 * maps an installation to a key. Served by `github.ts` and `github-installations.ts`.
 * @module
 */
import { createRoute } from "@hono/zod-openapi";
import { z } from "zod";
import { BODY_ERRORS, COMMON_ERRORS, body, errorResponse, json } from "./openapi-parts.js";

const tags = ["github"];

const header = (description: string) => z.string().optional().openapi({ description });

export const githubWebhook = createRoute({
  method: "post",
  path: "/integrations/github/webhook",
  operationId: "githubWebhook",
  tags,
  summary: "A GitHub webhook delivery (set as the App's webhook URL)",
  description:
    "Signed by GitHub with the App's webhook secret; the signature is checked in constant time before the body is parsed. An `@codeforge` comment or the `codeforge` label on an issue starts a task; a review, review comment or `@codeforge` comment on a pull request CodeForge opened steers it. Work is queued and done within seconds of the answer. See docs/github.md.",
  security: [{ githubSignature: [] }],
  request: {
    headers: z.object({
      "x-github-event": header("The event's name (`issue_comment`, `issues`, `pull_request_review`, `pull_request_review_comment`, `ping`, …)."),
      "x-github-delivery": header("The delivery's id: a redelivery of an accepted one starts nothing new."),
      "x-hub-signature-256": header("`sha256=<hex HMAC-SHA256 of the body>`."),
    }),
    body: body("GitHubWebhookPayload", { required: true }),
  },
  responses: {
    200: { description: "`ping` answered", ...json("GitHubWebhookAnswer") },
    202: { description: "Accepted (work queued), a duplicate delivery, or an event ignored (`reason` says why)", ...json("GitHubWebhookAnswer") },
    400: errorResponse("A header is missing, or the body is not JSON, or a handled event lacks a field CodeForge needs (`field` names it)."),
    401: errorResponse("`invalid_signature`: X-Hub-Signature-256 missing or not matching the body."),
    403: errorResponse("The delivery came from an address outside `GITHUB_WEBHOOK_ALLOWED_SOURCES`."),
    404: errorResponse("The GitHub App is not configured on this edge."),
    413: errorResponse("The body is larger than 1 MiB."),
    415: BODY_ERRORS[415],
    422: errorResponse("`unknown_installation`: no admin mapped the delivery's installation to a key."),
  },
});

/** An installation id in a path; anything else is a 404 naming it (see http/openapi-app.ts). */
const InstallationParams = z.object({
  installation_id: z.coerce
    .number({ error: "installation_id must be a number" })
    .int("installation_id must be a whole number")
    .positive("installation_id must be positive")
    .max(Number.MAX_SAFE_INTEGER)
    .openapi({ param: { name: "installation_id", in: "path" }, type: "integer", example: 4242 }),
});

export const linkGitHubInstallation = createRoute({
  method: "put",
  path: "/api/v1/github/installations/{installation_id}",
  operationId: "linkGitHubInstallation",
  tags: [...tags, "admin"],
  summary: "Map an installation of the GitHub App to the key its tasks belong to",
  description: "Tasks started from the installation's repositories are owned by the key and count against its limits. Replaces an earlier mapping.",
  request: { params: InstallationParams, body: body("LinkGitHubInstallationRequest", { required: true }) },
  responses: {
    200: { description: "The mapping", ...json("GitHubInstallationLink") },
    ...COMMON_ERRORS,
    ...BODY_ERRORS,
    404: errorResponse("The GitHub App is not configured on this edge."),
  },
});

export const getGitHubInstallation = createRoute({
  method: "get",
  path: "/api/v1/github/installations/{installation_id}",
  operationId: "getGitHubInstallation",
  tags: [...tags, "admin"],
  summary: "Which key an installation of the GitHub App is mapped to",
  request: { params: InstallationParams },
  responses: {
    200: { description: "The mapping", ...json("GitHubInstallationLink") },
    ...COMMON_ERRORS,
    404: errorResponse("The installation is not mapped."),
  },
});

export const unlinkGitHubInstallation = createRoute({
  method: "delete",
  path: "/api/v1/github/installations/{installation_id}",
  operationId: "unlinkGitHubInstallation",
  tags: [...tags, "admin"],
  summary: "Remove an installation's mapping: its deliveries are refused (422) from now on",
  request: { params: InstallationParams },
  responses: {
    200: { description: "The mapping removed", ...json("GitHubInstallationLink") },
    ...COMMON_ERRORS,
    404: errorResponse("The installation is not mapped."),
  },
});
