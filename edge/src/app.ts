/**
 * The Worker's Hono app: hygiene, request metrics and request logs on every route, then the
 * public API, the runner API, and the health and metrics routes, composed with `app.route()`.
 * The public API's route groups are `OpenAPIHono` apps whose routes carry their full paths and
 * their OpenAPI definitions (`routes/*.routes.ts`); the app collects those definitions, and
 * `routes/openapi-document.ts` makes the document from them.
 * The web console (`/`, its pages, `/console/<version>/…`), health, readiness and `/metrics` sit
 * outside `/api/v1/*`, so API-key auth and rate limits never apply to them.
 * @module
 */
import { requestId, type RequestIdVariables } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { API_BODY_MAX_BYTES } from "#api/limits.js";
import { ApiError, errorResponse, handleError } from "./api-error.js";
import type { Env } from "./env.js";
import { defaultHook } from "./http/openapi-app.js";
import { bodyHeaders } from "./http/read-body.js";
import { OpenAPIHono } from "@hono/zod-openapi";
import { apiKeyAuth } from "./middleware/api-key-auth.js";
import { authFailureGuard } from "./middleware/auth-failure-guard.js";
import { corsPolicy } from "./middleware/cors-policy.js";
import { httpMetrics } from "./middleware/http-metrics.js";
import { requestLog } from "./middleware/request-log.js";
import { keyLimits, streamsLimit } from "./rate-limit/client-limits.js";
import { apiDocsRoutes } from "./routes/api-docs.js";
import { auditRoutes } from "./routes/audit.js";
import { consoleRoutes } from "./routes/console.js";
import { deadLetterRoutes } from "./routes/dead-letters.js";
import { deliveryRoutes } from "./routes/deliveries.js";
import { githubRoutes } from "./routes/github.js";
import { githubInstallationRoutes } from "./routes/github-installations.js";
import { healthRoutes } from "./routes/health.js";
import { keyRoutes } from "./routes/keys.js";
import { metricsRoutes } from "./routes/metrics.js";
import { runnerRoutes } from "./routes/runner.js";
import { runnerCredentialRoutes } from "./routes/runner-credentials.js";
import { runnerListRoutes } from "./routes/runners.js";
import { sessionRoutes, signInRoutes } from "./routes/session.js";
import { taskRoutes } from "./routes/tasks.js";
import { webhookSecretRoutes } from "./routes/webhook-secret.js";

export function createApp() {
  const app = new OpenAPIHono<{ Bindings: Env; Variables: RequestIdVariables }>({ defaultHook });

  app.use("*", requestId({ limitLength: 128, headerName: "X-Request-Id" }));
  // Counted and logged after the response is built; neither adds a round trip (see the modules).
  app.use("*", httpMetrics());
  app.use("*", requestLog());
  app.use("*", secureHeaders({ crossOriginResourcePolicy: "same-site" }));
  // Before auth: a browser's preflight carries no key.
  app.use("/api/*", corsPolicy());
  // Before auth: a declared oversized or encoded body is refused unread. Bodies themselves are
  // read, bounded, by `jsonBody` (http/json-body.ts) once the key is known.
  app.use("/api/*", bodyHeaders(API_BODY_MAX_BYTES));
  // The API's own description is public; it is registered ahead of authentication.
  app.route("/api/v1", apiDocsRoutes);
  // Console sign-in takes its key in the body: ahead of authentication, behind its own
  // auth-failure guard (routes/session.ts). Every route below accepts its session cookie.
  app.route("/", signInRoutes);
  app.use("/api/v1/*", authFailureGuard());
  app.use("/api/v1/*", apiKeyAuth());
  // Every request spends its key's `requests` budget; task creation and follow-ups also its
  // `tasks` budget, decided in the same limiter call (see rate-limit/client-limits.ts).
  app.use("/api/v1/*", keyLimits());
  app.get("/api/v1/tasks/:id/stream", streamsLimit());

  app.route("/", healthRoutes);
  app.route("/", metricsRoutes);
  app.route("/", taskRoutes);
  app.route("/", deliveryRoutes);
  app.route("/", webhookSecretRoutes);
  app.route("/", deadLetterRoutes);
  app.route("/", runnerListRoutes);
  app.route("/", runnerCredentialRoutes);
  app.route("/", keyRoutes);
  app.route("/", sessionRoutes);
  app.route("/", auditRoutes);
  app.route("/", githubInstallationRoutes);
  app.route("/", runnerRoutes);
  // GitHub's deliveries: no API key; each is verified by its signature (routes/github.ts).
  app.route("/", githubRoutes);
  // The web console's page and files (routes/console.ts): public; it signs in through the API.
  app.route("/", consoleRoutes);

  app.notFound((c) => errorResponse(c, new ApiError("not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`)));
  app.onError(handleError);
  return app;
}
