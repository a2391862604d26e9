/**
 * The pieces the route definitions (`*.routes.ts`) share: references to the contract's
 * component schemas, the error envelope under each status, the rate-limit headers, and the
 * path parameters, whose patterns come from `api/ids.ts`.
 * @module
 */
import "@hono/zod-openapi";
import { z } from "zod";
import { KEY_ID_PATTERN, MESSAGE_ID_PATTERN, TASK_ID_PATTERN } from "#api/ids.js";
import { COMPONENTS, type ComponentName } from "#api/openapi.js";

type Components = typeof COMPONENTS;

/**
 * Component `name`'s zod schema, marked to appear as a `$ref` to `#/components/schemas/<name>`.
 * Called through the prototype: a schema built before `@hono/zod-openapi` extended zod lacks
 * its own `.openapi`.
 */
export function component<N extends ComponentName>(name: N): Components[N]["schema"] {
  return z.ZodType.prototype.openapi.call(COMPONENTS[name].schema, name) as Components[N]["schema"];
}

/** A JSON response of component `name` (typed: handlers must answer that shape), with an example when given. */
export const json = <N extends ComponentName>(name: N, example?: unknown) => ({
  content: { "application/json": { schema: component(name), ...(example === undefined ? {} : { example }) } },
});

/** A `$ref` to one of the components `api/openapi.ts` lists. */
export const ref = (name: ComponentName) => ({ $ref: `#/components/schemas/${name}` });

/**
 * A request body: a `$ref` (not a zod schema, so Hono's own JSON validator, which reads the
 * body unbounded, is never installed); the route's `jsonBody` middleware reads and validates it.
 */
export const body = (name: ComponentName, options: { required: boolean; example?: unknown }) => ({
  required: options.required,
  ...(options.required ? {} : { description: "May be left out: an empty body reads as `{}`." }),
  content: { "application/json": { schema: ref(name), ...(options.example === undefined ? {} : { example: options.example }) } },
});

export const errorResponse = (description: string) => ({ description, ...json("Error") });

export const RATE_LIMIT_HEADERS = {
  "RateLimit-Policy": {
    description: 'The limits that apply, e.g. `"tasks";q=10;w=60, "requests";q=600;w=60` (IETF draft).',
    schema: { type: "string" as const },
  },
  RateLimit: { description: 'What is left of each limit, e.g. `"tasks";r=3;t=42, "requests";r=597;t=60` (IETF draft).', schema: { type: "string" as const } },
};

export const REQUEST_ID_HEADER = {
  "X-Request-Id": { description: "The request's id: yours if you sent a sane one, else a new one.", schema: { type: "string" as const } },
};

export const rateLimited = (description: string) => ({
  description,
  headers: { "Retry-After": { schema: { type: "integer" as const } }, ...RATE_LIMIT_HEADERS },
  ...json("Error"),
});

/** How a JSON body is refused before its fields are looked at (every route that takes one). */
export const BODY_ERRORS = {
  413: errorResponse("The body is over 1 MiB (sent chunked, it is read no further than that)."),
  415: errorResponse("The body is not sent as `application/json`, names a charset other than UTF-8, or has a `Content-Encoding` (the edge decodes none)."),
};

export const COMMON_ERRORS = {
  400: errorResponse(
    "The input failed validation (`field` names the field; for an unknown field the message suggests the known one it is nearest to, if any), or the body is not JSON: malformed, not UTF-8, or a key given twice in one object (`invalid_json`, `field` names the key).",
  ),
  401: errorResponse("No or invalid API key, or an expired, revoked or rotated-out one."),
  403: errorResponse("The key lacks the scope this route needs, or is used from outside its allowed addresses."),
  404: errorResponse("No such task, or not yours."),
  405: errorResponse("A known path with another method; `Allow` lists the methods."),
  429: rateLimited("A rate limit was reached, or this client IP is blocked after repeated authentication failures. `Retry-After` says when to try again."),
};

export const IDEMPOTENCY_KEY_HEADER = {
  name: "Idempotency-Key",
  in: "header" as const,
  required: false,
  description: "1-255 printable ASCII characters; a retry with the same key and body is answered as the first request was.",
  schema: { type: "string" as const, minLength: 1, maxLength: 255 },
};

/** A path id that does not match its pattern is a 404 with this message (see http/openapi-app.ts). */
const pathId = (pattern: RegExp, notFound: string) => z.string().regex(pattern, notFound);

export const TaskIdParams = z.object({ id: pathId(TASK_ID_PATTERN, "task not found") });
export const KeyIdParams = z.object({ id: pathId(KEY_ID_PATTERN, "key not found") });
export const DeliveryParams = z.object({ id: pathId(TASK_ID_PATTERN, "task not found"), deliveryId: pathId(MESSAGE_ID_PATTERN, "delivery not found") });
