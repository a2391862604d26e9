/**
 * The handler for a known path called with a method it does not have: 405 with `Allow`, not
 * "no route" (404), so a client learns what the path does take.
 * @module
 */
import { ApiError } from "../api-error.js";

/** @example routes.all("/:id", methodNotAllowed("GET")) */
export function methodNotAllowed(allow: string) {
  return (c: { req: { method: string } }): never => {
    throw new ApiError("method_not_allowed", `${c.req.method} is not supported here; use ${allow}`, undefined, { Allow: allow });
  };
}
