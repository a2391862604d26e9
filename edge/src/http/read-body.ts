/**
 * The one way the edge reads a request body: as a stream, counting bytes, and stopping (the
 * stream is canceled) the moment the count passes the route's limit. Nothing is buffered
 * beyond the limit, whether the client declared a `Content-Length` or sent the body chunked.
 *
 * Limits come from `api/limits.ts`: `API_BODY_MAX_BYTES` for the public API,
 * `RUNNER_BODY_MAX_BYTES` and `CLI_SESSION_BODY_MAX_BYTES` for the runner API.
 * @module
 */
import { createMiddleware } from "hono/factory";
import { ApiError } from "../api-error.js";

/** Bodies already read, so a second reader of the same request gets the same bytes. */
const bodies = new WeakMap<Request, Promise<Uint8Array>>();

function tooLarge(maxBytes: number): ApiError {
  return new ApiError("payload_too_large", `request body exceeds ${maxBytes} bytes`);
}

/**
 * Refuses, from the headers alone, a body the edge will not read: a `Content-Length` over
 * `maxBytes` (413) or any `Content-Encoding` but `identity` (415: the edge decodes none).
 */
export function checkBodyHeaders(request: Request, maxBytes: number): void {
  const headers = request.headers;
  const declared = headers.get("content-length");
  if (declared !== null && declared.trim() !== "") {
    const length = Number(declared);
    if (!Number.isFinite(length) || length > maxBytes) throw tooLarge(maxBytes);
  }
  const encoding = headers.get("content-encoding")?.trim().toLowerCase() ?? "";
  const hasBody = request.body !== null && declared?.trim() !== "0";
  if (hasBody && encoding !== "" && encoding !== "identity") {
    throw new ApiError("unsupported_media_type", `Content-Encoding ${JSON.stringify(encoding)} is not accepted: send the body unencoded`);
  }
}

/**
 * The request's body, at most `maxBytes` of it; over that, 413 `payload_too_large` and the
 * rest of the stream is never pulled. A request without a body reads as no bytes.
 */
export function readBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  let body = bodies.get(request);
  if (!body) {
    body = readBounded(request, maxBytes);
    bodies.set(request, body);
  }
  return body;
}

async function readBounded(request: Request, maxBytes: number): Promise<Uint8Array> {
  checkBodyHeaders(request, maxBytes);
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      // Not awaited: the answer does not wait on a client that stalls its side.
      reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/**
 * Applies `checkBodyHeaders` to every request under a path before anything else runs
 * (authentication included), so a declared oversized or encoded body is refused unread even
 * on routes that take no body.
 * @example app.use("/api/*", bodyHeaders(API_BODY_MAX_BYTES))
 */
export function bodyHeaders(maxBytes: number) {
  return createMiddleware(async (c, next) => {
    checkBodyHeaders(c.req.raw, maxBytes);
    await next();
  });
}
