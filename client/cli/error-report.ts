/**
 * Turns whatever stopped a command into what a person needs: one line saying what went wrong
 * (the API's error code, field, message and request id when the edge answered), a hint on what
 * to change when there is a likely one, and the exit code scripts branch on. With `--json` the
 * same goes to stderr as one JSON line: `{"error": {code, message, request_id, field, status,
 * retry_after_seconds, hint, exit_code}}`.
 * @module
 */
import { CodeForgeError } from "../api-client.js";
import type { CliConfig } from "./cli-config.js";
import { EXIT, UsageError } from "./exit-codes.js";
import type { Output } from "./output.js";

/** Prints the error (and a hint) to stderr; returns the exit code. */
export function reportError(err: unknown, config: CliConfig | null, out: Output, options: { json?: boolean } = {}): number {
  const described = describe(err, config);
  if (options.json) {
    const api = err instanceof CodeForgeError && err.code !== "invalid_response" ? err : null;
    const error = {
      code: err instanceof CodeForgeError ? err.code : (LOCAL_CODES[described.exit] ?? "unexpected"),
      message: api?.message ?? described.line,
      request_id: api?.requestId ?? null,
      field: api?.field ?? null,
      status: err instanceof CodeForgeError ? err.status : null,
      retry_after_seconds: api?.retryAfterSeconds ?? null,
      hint: described.hint ?? null,
      exit_code: described.exit,
    };
    out.error(JSON.stringify({ error }));
  } else {
    out.error(`codeforge: ${described.line}`);
    if (described.hint) out.error(`  hint: ${described.hint}`);
  }
  return described.exit;
}

/** The `code` of errors the API did not name, by exit code. */
const LOCAL_CODES: Record<number, string> = { [EXIT.usage]: "usage", [EXIT.unreachable]: "unreachable", [EXIT.unexpected]: "unexpected" };

interface Described {
  line: string;
  hint?: string;
  exit: number;
}

function describe(err: unknown, config: CliConfig | null): Described {
  const said = (line: string, hint?: string) => ({ line, hint });
  const urlFrom = config ? `${config.url} (from ${config.urlSource})` : "the URL";

  if (err instanceof UsageError) {
    return { ...said(err.message, err.hint ?? "codeforge --help lists the commands and their flags"), exit: EXIT.usage };
  }
  if (err instanceof CodeForgeError) {
    if (err.code === "invalid_response") {
      return { ...said(err.message, `is ${urlFrom} the edge's base URL, without /api/v1? Set it with --url or CODEFORGE_URL`), exit: EXIT.unreachable };
    }
    const field = err.field ? ` [${err.field}]` : "";
    const line = `${err.code}${field}: ${err.message}${err.requestId ? ` (request ${err.requestId})` : ""}`;
    if (err.status === 401) {
      return {
        ...said(
          line,
          `the key came from ${config?.keySource ?? "your settings"}: it may be mistyped, expired, revoked or rotated out; an admin can check with codeforge keys`,
        ),
        exit: EXIT.auth,
      };
    }
    if (err.status === 403) {
      return {
        ...said(
          line,
          "use a key with the scope this needs (an admin makes one with codeforge keys create --scope …), from an address its allowed_cidrs accept",
        ),
        exit: EXIT.auth,
      };
    }
    if (err.status === 429 || err.status === 503) {
      const wait = err.retryAfterSeconds === null ? "in a little while" : `in ${err.retryAfterSeconds} s (Retry-After)`;
      return { ...said(line, `${err.status === 429 ? "rate limited" : "the edge is busy"}; try again ${wait}`), exit: EXIT.retryLater };
    }
    if (err.status === 404 && err.message.startsWith("no route for")) {
      return { ...said(line, `is ${urlFrom} the edge's base URL, without a path?`), exit: EXIT.apiError };
    }
    return { ...said(line), exit: EXIT.apiError };
  }
  if (err instanceof TypeError && /fetch failed/.test(err.message)) {
    const cause = (err.cause as Error | undefined)?.message ?? err.message;
    return {
      ...said(
        `cannot reach the edge at ${config?.url ?? "its URL"} (${cause})`,
        `is it running (npm start)? The URL came from ${config?.urlSource ?? "your settings"}; change it with --url or CODEFORGE_URL`,
      ),
      exit: EXIT.unreachable,
    };
  }
  if (err instanceof Error && err.name === "TimeoutError") {
    return {
      ...said(`the edge at ${config?.url ?? "its URL"} did not answer in time`, "is the URL right, and the edge healthy (GET /ready)?"),
      exit: EXIT.unreachable,
    };
  }
  if (err instanceof Error && err.message.startsWith("lost the stream")) {
    return { ...said(err.message, "the task goes on; codeforge watch <task-id> picks it up again"), exit: EXIT.unreachable };
  }
  if (err instanceof Error && (err as NodeJS.ErrnoException).code === "ENOENT") {
    return { ...said(err.message), exit: EXIT.usage };
  }
  return { ...said(`unexpected error: ${err instanceof Error ? err.message : String(err)}`), exit: EXIT.unexpected };
}
