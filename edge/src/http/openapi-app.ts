/**
 * The Hono app every public route group is built on: an `OpenAPIHono` whose routes are
 * declared with `createRoute` (see `routes/*.routes.ts`), so the OpenAPI document is generated
 * from the same definitions the edge serves. Its default hook turns a failed query or path
 * check into the API's own errors:
 *
 * - a query string that fails its schema is a 400 `validation_failed` (`field` is its dotted
 *   path; the message as for a body, see `validation.ts`, an unknown parameter with the known
 *   one it is nearest to), and a parameter given more than once is named as such rather than
 *   as a value of the wrong type;
 * - a path id that cannot exist is a 404 whose message is the schema's (`task not found`),
 *   without waking any object.
 *
 * JSON bodies are not validated here: `jsonBody` (`json-body.ts`) reads them bounded and strict.
 * @module
 */
import { OpenAPIHono, type Hook } from "@hono/zod-openapi";
import type { Env as HonoEnv } from "hono";
import type { z } from "zod";
import { ApiError } from "../api-error.js";
import { pathNotFound, validationError } from "./validation.js";

/** The hook for a route whose query schema is `query`: it refuses bad input as above. */
// biome-ignore lint/suspicious/noExplicitAny: the hook is the same for every route's types.
export function routeHook(query?: z.ZodType): Hook<any, any, any, any> {
  return (result, c) => {
    if (result.success) return;
    const issues = result.error.issues;
    if (result.target === "param") throw pathNotFound(issues);
    if (result.target === "query") {
      const failing = new Set(issues.map((issue) => String(issue.path[0] ?? "")));
      const repeated = Object.entries(c.req.queries()).find(([name, values]) => values.length > 1 && failing.has(name))?.[0];
      if (repeated !== undefined) throw new ApiError("validation_failed", `query parameter "${repeated}" is given more than once; give it once`, repeated);
      throw validationError(issues, query, "query parameter");
    }
    throw validationError(issues);
  };
}

/** The hook for routes that do not say which query schema they have. */
export const defaultHook = routeHook();

/**
 * A route group whose `app.openapi(route, handler)` routes answer bad input as above, each
 * route's hook knowing its query schema (for the suggestion an unknown parameter gets).
 */
export function openApiRoutes<E extends HonoEnv>(): OpenAPIHono<E> {
  const app = new OpenAPIHono<E>({ defaultHook });
  const register = app.openapi;
  app.openapi = ((route, handler, hook) => register(route, handler, hook ?? routeHook(route.request?.query))) as typeof app.openapi;
  return app;
}
