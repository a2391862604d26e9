/**
 * Turns whatever stopped a command into what a person needs: one line saying what went wrong
 * (the API's error code, field, message and request id when the edge answered), a hint on what
 * to change when there is a likely one, and the exit code scripts branch on.
 * @module
 */
import { CodeForgeError } from "../api-client.js";
import type { CliConfig } from "./cli-config.js";
import { EXIT, UsageError } from "./exit-codes.js";
import type { Output } from "./output.js";

/** Prints the error (and a hint) to stderr; returns the exit code. */
export function reportError(err: unknown, config: CliConfig | null, out: Output): number {
  const say = (line: string, hint?: string) => {
    out.error(`codeforge: ${line}`);
    if (hint) out.error(`  hint: ${hint}`);
  };
  const urlFrom = config ? `${config.url} (from ${config.urlSource})` : "the URL";

  if (err instanceof UsageError) {
    say(err.message, "codeforge --help lists the commands and their flags");
    return EXIT.usage;
  }
  if (err instanceof CodeForgeError) {
    if (err.code === "invalid_response") {
      say(err.message, `is ${urlFrom} the edge's base URL, without /api/v1? Set it with --url or CODEFORGE_URL`);
      return EXIT.unreachable;
    }
    const field = err.field ? ` [${err.field}]` : "";
    const line = `${err.code}${field}: ${err.message}${err.requestId ? ` (request ${err.requestId})` : ""}`;
    if (err.status === 401) {
      say(line, `the key came from ${config?.keySource ?? "your settings"}: it may be mistyped, expired, revoked or rotated out; an admin can check with codeforge keys`);
      return EXIT.auth;
    }
    if (err.status === 403) {
      say(line, "use a key with the scope this needs (an admin makes one with codeforge keys create --scope …), from an address its allowed_cidrs accept");
      return EXIT.auth;
    }
    if (err.status === 429 || err.status === 503) {
      const wait = err.retryAfterSeconds === null ? "in a little while" : `in ${err.retryAfterSeconds} s (Retry-After)`;
      say(line, `${err.status === 429 ? "rate limited" : "the edge is busy"}; try again ${wait}`);
      return EXIT.retryLater;
    }
    if (err.status === 404 && err.message.startsWith("no route for")) {
      say(line, `is ${urlFrom} the edge's base URL, without a path?`);
      return EXIT.apiError;
    }
    say(line);
    return EXIT.apiError;
  }
  if (err instanceof TypeError && /fetch failed/.test(err.message)) {
    const cause = (err.cause as Error | undefined)?.message ?? err.message;
    say(`cannot reach the edge at ${config?.url ?? "its URL"} (${cause})`, `is it running (npm start)? The URL came from ${config?.urlSource ?? "your settings"}; change it with --url or CODEFORGE_URL`);
    return EXIT.unreachable;
  }
  if (err instanceof Error && err.name === "TimeoutError") {
    say(`the edge at ${config?.url ?? "its URL"} did not answer in time`, "is the URL right, and the edge healthy (GET /ready)?");
    return EXIT.unreachable;
  }
  if (err instanceof Error && err.message.startsWith("lost the stream")) {
    say(err.message, "the task goes on; codeforge watch <task-id> picks it up again");
    return EXIT.unreachable;
  }
  if (err instanceof Error && (err as NodeJS.ErrnoException).code === "ENOENT") {
    say(err.message);
    return EXIT.usage;
  }
  say(`unexpected error: ${err instanceof Error ? err.message : String(err)}`);
  return EXIT.unexpected;
}
