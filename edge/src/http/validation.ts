/**
 * How a value that fails a contract schema is refused: 400 `validation_failed`, the message
 * listing the first few issues as `field: problem`, `field` set to the first one's dotted path.
 * Used for JSON bodies (`json-body.ts`) and, through the route apps' default hook
 * (`openapi-app.ts`), for query strings. A path id that fails its schema is a 404 instead.
 * @module
 */
import type { z } from "zod";
import { ApiError } from "../api-error.js";

const MAX_LISTED_ISSUES = 5;

/** The `ApiError` that refuses a value with these issues. */
export function validationError(issues: readonly z.core.$ZodIssue[]): ApiError {
  const described = issues.slice(0, MAX_LISTED_ISSUES).map((issue) => {
    const field = issueField(issue);
    return field ? `${field}: ${issue.message}` : issue.message;
  });
  const more = issues.length > MAX_LISTED_ISSUES ? ` (and ${issues.length - MAX_LISTED_ISSUES} more)` : "";
  return new ApiError("validation_failed", described.join("; ") + more, (issues[0] && issueField(issues[0])) || undefined);
}

/** The `ApiError` for path parameters with these issues: 404 with the schema's message. */
export function pathNotFound(issues: readonly z.core.$ZodIssue[]): ApiError {
  return new ApiError("not_found", issues[0]?.message ?? "not found");
}

/** Validates an already-parsed value against `schema`; throws `validationError` on failure. */
export function validate<S extends z.ZodType>(value: unknown, schema: S): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw validationError(parsed.error.issues);
}

function issueField(issue: z.core.$ZodIssue): string {
  const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0] ?? ""] : issue.path;
  return path.map(String).join(".");
}
