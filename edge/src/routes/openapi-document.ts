/**
 * The OpenAPI document, generated: the paths of every route from the `createRoute`
 * definitions the app serves them with (`*.routes.ts`), the rest from `api/openapi.ts`.
 *
 * `npm run openapi` (scripts/generate-openapi.ts) writes it from `definitionsApp()`, which
 * registers the definitions without their handlers (those need the Workers runtime); a test
 * in the Worker checks that the real app's document is the same as the committed file.
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { SECURITY_SCHEMES, WEBHOOKS, componentSchemas, documentHead, handWrittenPaths } from "#api/openapi.js";
import * as admin from "./admin.routes.js";
import * as github from "./github.routes.js";
import * as operations from "./operations.routes.js";
import * as runner from "./runner.routes.js";
import * as session from "./session.routes.js";
import * as tasks from "./tasks.routes.js";
import * as webhooks from "./webhooks.routes.js";

type Json = Record<string, unknown>;

/** Every route definition the edge serves. */
export const ROUTE_DEFINITIONS = [tasks, webhooks, admin, session, github, runner, operations].flatMap((definitions) => Object.values(definitions));

/** An app that knows every definition but serves none: for generating the document in Node. */
export function definitionsApp(): OpenAPIHono {
  const app = new OpenAPIHono();
  for (const route of ROUTE_DEFINITIONS) app.openAPIRegistry.registerPath(route);
  return app;
}

const METHOD_ORDER = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/**
 * A path's operations in one fixed order: how definitions are collected (a module namespace's
 * keys) differs between loaders, and the document must not.
 */
function inMethodOrder(item: Json): Json {
  const rank = (key: string) => (METHOD_ORDER.includes(key) ? METHOD_ORDER.indexOf(key) : -1);
  return Object.fromEntries(Object.entries(item).sort(([a], [b]) => rank(a) - rank(b)));
}

// biome-ignore lint/suspicious/noExplicitAny: any app's routes make a document.
export function openApiDocument(app: OpenAPIHono<any, any, any>, version: string): Json {
  const generated = app.getOpenAPI31Document(documentHead(version)) as unknown as Json;
  const paths = { ...(generated.paths as Json), ...handWrittenPaths() };
  return {
    ...generated,
    paths: Object.fromEntries(
      Object.entries(paths)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([path, item]) => [path, inMethodOrder(item as Json)]),
    ),
    webhooks: WEBHOOKS,
    components: { securitySchemes: SECURITY_SCHEMES, schemas: componentSchemas() },
  };
}
