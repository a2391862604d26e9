/**
 * Refuses a request whose key lacks a scope with 403 `forbidden`. Mounted per route, after
 * authentication, so each route says in one place what it needs.
 * @module
 */
import { createMiddleware } from "hono/factory";
import { hasScope, type Scope } from "#api/keys.js";
import { ApiError } from "../api-error.js";
import type { AuthVariables } from "./api-key-auth.js";

/**
 * Requires `scope` (`admin` holds every scope).
 * @example taskRoutes.post("/", requireScope("tasks:write"), handler)
 */
export function requireScope(scope: Scope) {
  return createMiddleware<{ Variables: AuthVariables }>(async (c, next) => {
    if (!hasScope(c.get("principal").scopes, scope)) {
      throw new ApiError("forbidden", `this API key lacks the '${scope}' scope`);
    }
    return next();
  });
}
