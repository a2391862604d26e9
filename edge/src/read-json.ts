/**
 * Reads a JSON request body and validates it with a contract schema, answering every way
 * it can be wrong with a 4xx that names the problem: wrong content type (415), malformed
 * JSON (400 `invalid_json`), a field that fails the schema (400 `validation_failed` with
 * `field` set to its dotted path).
 * @module
 */
import type { Context } from "hono";
import type { z } from "zod";
import { ApiError } from "./api-error.js";

const MAX_LISTED_ISSUES = 5;

/** Parses `text` as JSON and validates it; throws `ApiError` on any problem. */
export function parseJsonText<S extends z.ZodType>(text: string, schema: S): z.infer<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError("invalid_json", "request body is not valid JSON");
  }
  return validate(value, schema);
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
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new ApiError("unsupported_media_type", "Content-Type must be application/json");
  }
  return parseJsonText(await c.req.text(), schema);
}

/** Like `readJson`, for bodies that may be left out: an empty body reads as `{}`. */
export async function readOptionalJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const text = await c.req.text();
  if (text.trim() === "") return validate({}, schema);
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new ApiError("unsupported_media_type", "Content-Type must be application/json");
  }
  return parseJsonText(text, schema);
}
