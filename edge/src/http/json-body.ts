/**
 * Reads a JSON request body and validates it with a contract schema, answering every way it
 * can be wrong with a 4xx that names the problem: too large (413, see `read-body.ts`), wrong
 * content type, a charset other than UTF-8 or an encoded body (415), bytes that are not
 * UTF-8, malformed JSON or a key given twice in one object (400 `invalid_json`), a field that
 * fails the schema (400 `validation_failed`, see `validation.ts`).
 *
 * Routes declared with `createRoute` take their body through `jsonBody(schema)`, a route
 * middleware: Hono's own JSON validator would read the body unbounded and leniently.
 * @module
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { z } from "zod";
import { API_BODY_MAX_BYTES } from "#api/limits.js";
import { ApiError } from "../api-error.js";
import { duplicateKeyPath } from "./duplicate-key.js";
import { readBody } from "./read-body.js";
import { pathNotFound, validate } from "./validation.js";

/** Parses `text` as JSON and validates it; throws `ApiError` on any problem. */
export function parseJsonText<S extends z.ZodType>(text: string, schema: S): z.infer<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError("invalid_json", "request body is not valid JSON");
  }
  const duplicate = duplicateKeyPath(text);
  if (duplicate !== null) throw new ApiError("invalid_json", `request body gives the key ${JSON.stringify(duplicate)} more than once`, duplicate);
  return validate(value, schema);
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Body bytes as text; bytes that are not UTF-8 are a 400 `invalid_json`. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ApiError("invalid_json", "request body is not valid UTF-8");
  }
}

/**
 * Refuses (415) a `Content-Type` whose `charset` parameter names anything but UTF-8, the only
 * encoding JSON may travel in; no charset at all means UTF-8.
 */
export function requireUtf8Charset(contentType: string | undefined): void {
  for (const parameter of (contentType ?? "").split(";").slice(1)) {
    const eq = parameter.indexOf("=");
    if (eq < 0 || parameter.slice(0, eq).trim().toLowerCase() !== "charset") continue;
    const charset = parameter
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1");
    if (charset.toLowerCase() !== "utf-8") {
      throw new ApiError("unsupported_media_type", `charset ${JSON.stringify(charset)} is not accepted: send the body as UTF-8`);
    }
  }
}

function requireJson(contentType: string | undefined): void {
  if (!/^application\/json\s*(;|$)/i.test(contentType ?? "")) {
    throw new ApiError("unsupported_media_type", "Content-Type must be application/json");
  }
  requireUtf8Charset(contentType);
}

/** Reads and validates the JSON body of a request to the public API. */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  requireJson(c.req.header("content-type"));
  return parseJsonText(decodeUtf8(await readBody(c.req.raw, API_BODY_MAX_BYTES)), schema);
}

/** Like `readJson`, for bodies that may be left out: an empty body reads as `{}`. */
export async function readOptionalJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const text = decodeUtf8(await readBody(c.req.raw, API_BODY_MAX_BYTES));
  if (text.trim() === "") return validate({}, schema);
  requireJson(c.req.header("content-type"));
  return parseJsonText(text, schema);
}

/**
 * A route middleware that reads the body with `readJson` (or `readOptionalJson` when
 * `optional`) and hands it on as the request's validated `json`; the handler takes it with
 * `bodyOf(c, schema)`. Put it after the route's scope check, so a key without the scope is
 * refused before its body is read. Route middleware runs before the route's own parameter
 * checks, so give it the route's `params` schema: a path id that cannot exist is then a 404
 * before the body is read, as it is on every other route.
 */
export function jsonBody(schema: z.ZodType, options: { optional?: boolean; params?: z.ZodType } = {}) {
  return createMiddleware(async (c, next) => {
    if (options.params) {
      const params = options.params.safeParse(c.req.param());
      if (!params.success) throw pathNotFound(params.error.issues);
    }
    const value = options.optional ? await readOptionalJson(c, schema) : await readJson(c, schema);
    c.req.addValidatedData("json", value as object);
    await next();
  });
}

/** The body `jsonBody(schema)` validated for this request. */
export function bodyOf<S extends z.ZodType>(c: Context, _schema: S): z.infer<S> {
  return (c.req.valid as (target: "json") => unknown)("json") as z.infer<S>;
}
