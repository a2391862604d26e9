/**
 * A known path asked with the wrong method: say which methods it has (405 with `Allow`),
 * rather than "no route" (404).
 * @module
 */
import { ApiError } from "./api-error.js";

/**
 * A handler that refuses with 405 `method_not_allowed`.
 * @example app.all("/:id/cancel", methodNotAllowed("POST"))
 */
export function methodNotAllowed(allow: string) {
  return (c: { req: { method: string } }): never => {
    throw new ApiError("method_not_allowed", `${c.req.method} is not supported here; use ${allow}`, undefined, { Allow: allow });
  };
}
