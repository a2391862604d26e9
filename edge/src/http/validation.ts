/**
 * How a value that fails a contract schema is refused: 400 `validation_failed`, the message
 * listing the first few issues as `field: problem`, `field` set to the first one's dotted path.
 * A field the schema does not know is listed as `unknown field "repo.urll"; did you mean
 * "repo.url"?`, the suggestion made when a known name at that place is near enough to be a
 * typo (`#api/suggest.js`). Used for JSON bodies (`json-body.ts`) and, through the route apps'
 * hook (`openapi-app.ts`), for query strings. A path id that fails its schema is a 404 instead.
 * @module
 */
import type { z } from "zod";
import { didYouMean } from "#api/suggest.js";
import { ApiError } from "../api-error.js";
import { knownKeysAt } from "./known-keys.js";

const MAX_LISTED_ISSUES = 5;

/**
 * The `ApiError` that refuses a value with these issues. Given the `schema` that raised them,
 * an unknown field's description suggests the known name it is nearest to; `noun` is what an
 * unknown key is called (`field`, or `query parameter`).
 */
export function validationError(issues: readonly z.core.$ZodIssue[], schema?: z.core.$ZodType, noun = "field"): ApiError {
  const described = issues.flatMap((issue) => describe(issue, schema, noun));
  const listed = described.slice(0, MAX_LISTED_ISSUES);
  const more = described.length > MAX_LISTED_ISSUES ? ` (and ${described.length - MAX_LISTED_ISSUES} more)` : "";
  return new ApiError("validation_failed", listed.join("; ") + more, (issues[0] && issueField(issues[0])) || undefined);
}

/** The `ApiError` for path parameters with these issues: 404 with the schema's message. */
export function pathNotFound(issues: readonly z.core.$ZodIssue[]): ApiError {
  return new ApiError("not_found", issues[0]?.message ?? "not found");
}

/** Validates an already-parsed value against `schema`; throws `validationError` on failure. */
export function validate<S extends z.ZodType>(value: unknown, schema: S): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw validationError(parsed.error.issues, schema);
}

function describe(issue: z.core.$ZodIssue, schema: z.core.$ZodType | undefined, noun: string): string[] {
  if (issue.code === "unrecognized_keys") {
    const known = schema ? knownKeysAt(schema, issue.path) : [];
    const prefix = issue.path.map(String).join(".");
    const dotted = (key: string) => (prefix ? `${prefix}.${key}` : key);
    return issue.keys.map((key) => `unknown ${noun} ${JSON.stringify(dotted(key))}${didYouMean(key, known, (near) => JSON.stringify(dotted(near)))}`);
  }
  const field = issueField(issue);
  return [field ? `${field}: ${issue.message}` : issue.message];
}

function issueField(issue: z.core.$ZodIssue): string {
  const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0] ?? ""] : issue.path;
  return path.map(String).join(".");
}
