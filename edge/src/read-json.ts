/**
 * Reads a JSON request body and validates it with a contract schema, answering every way
 * it can be wrong with a 4xx that names the problem: too large (413, see
 * `http/read-body.ts`), wrong content type, a charset other than UTF-8 or an encoded body
 * (415), bytes that are not UTF-8, malformed JSON or a key given twice in one object (400
 * `invalid_json`), a field that fails the schema (400 `validation_failed` with `field` set to
 * its dotted path).
 * @module
 */
import type { Context } from "hono";
import type { z } from "zod";
import { API_BODY_MAX_BYTES } from "../../api/limits.js";
import { ApiError } from "./api-error.js";
import { duplicateKeyPath } from "./http/duplicate-key.js";
import { readBody } from "./http/read-body.js";

const MAX_LISTED_ISSUES = 5;

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
    const charset = parameter.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1");
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

/** Validates an already-parsed value against `schema`. */
export function validate<S extends z.ZodType>(value: unknown, schema: S): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  const described = issues.slice(0, MAX_LISTED_ISSUES).map((issue) => {
    const field = issueField(issue);
    return field ? `${field}: ${issue.message}` : issue.message;
  });
  const more = issues.length > MAX_LISTED_ISSUES ? ` (and ${issues.length - MAX_LISTED_ISSUES} more)` : "";
  throw new ApiError("validation_failed", described.join("; ") + more, issueField(issues[0]!) || undefined);
}

function issueField(issue: z.core.$ZodIssue): string {
  const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0] ?? ""] : issue.path;
  return path.map(String).join(".");
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
