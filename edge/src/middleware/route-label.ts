/**
 * The route pattern a request matched (`/api/v1/tasks/:id`), for metric labels and request
 * logs: never the raw path, so ids and typos do not mint a series each.
 *
 * Hono's matched routes include the middleware a request passed through (`/api/*`); the
 * pattern is the last matched route that is not such a wildcard. A request no route took
 * (a 404 from `notFound`) is `unmatched`.
 * @module
 */
import type { Context } from "hono";
import { matchedRoutes } from "hono/route";
import { UNMATCHED_PATH_LABEL } from "#api/metrics.js";

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** The route pattern of the request `c` handled; call after `await next()`. */
export function routeLabel(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const path = routes[i]!.path;
    if (!path.endsWith("*")) return path;
  }
  return UNMATCHED_PATH_LABEL;
}

/** The method as a label: the standard ones as sent, anything else `OTHER`. */
export function methodLabel(method: string): string {
  return METHODS.has(method) ? method : "OTHER";
}
