/**
 * `ApiError`: the one exception routes throw, and the `onError` handler that turns anything
 * thrown into the JSON error envelope.
 *
 * Unknown errors are logged with their stack and answered as a bare `internal_error`: no
 * stack, no internal message, nothing a secret could hide in ever reaches a client.
 * @module
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ERROR_STATUS, type ErrorBody, type ErrorCode } from "#api/errors.js";
import { logFor } from "./log.js";

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "ApiError";
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** Builds the envelope; `request_id` comes from Hono's request-id middleware. */
export function errorResponse(c: Context, error: ApiError): Response {
  const body: ErrorBody = {
    error: {
      code: error.code,
      message: error.message,
      request_id: c.get("requestId") ?? "unknown",
      ...(error.field ? { field: error.field } : {}),
    },
  };
  return c.json(body, error.status as ContentfulStatusCode, error.headers);
}

/** Maps Hono's own exceptions (body limit, malformed requests) to our codes. */
function fromHttpException(e: HTTPException): ApiError {
  switch (e.status) {
    case 413:
      return new ApiError("payload_too_large", "request body is too large");
    case 401:
      return new ApiError("unauthorized", "missing or invalid credentials");
    case 404:
      return new ApiError("not_found", "not found");
    default:
      return e.status >= 500 ? new ApiError("internal_error", "internal error") : new ApiError("bad_request", e.message || "bad request");
  }
}

/** The app's `onError`. */
export function handleError(err: Error, c: Context): Response {
  if (err instanceof ApiError) return errorResponse(c, err);
  if (err instanceof HTTPException) return errorResponse(c, fromHttpException(err));
  logFor(c.env ?? {}).error("unhandled error", { request_id: c.get("requestId"), error: String(err?.stack ?? err) });
  return errorResponse(c, new ApiError("internal_error", "internal error"));
}
