/**
 * One call to the GitHub REST API: `@octokit/request` with our base URL and user agent, a time
 * limit on every call, and one error type. Whatever goes wrong becomes a `GitHubApiError` whose
 * message names the method, the path template, the status and GitHub's own message — never the
 * URL's values, a header or a token, so it can be logged and shown as is.
 * @module
 */
import { request } from "@octokit/request";

/** Every call gives up after this long: a slow GitHub must not hold a webhook's work forever. */
export const GITHUB_TIMEOUT_MS = 10_000;
/** GitHub's message is kept to this many characters in our errors. */
const DETAIL_MAX_CHARS = 300;
export const GITHUB_USER_AGENT = "codeforge";

/** A GitHub API call that failed: an HTTP error status, or no answer at all (`status` 0). */
export class GitHubApiError extends Error {
  override name = "GitHubApiError";
  /** The HTTP status GitHub answered, or 0 when no answer came (network error, time-out). */
  readonly status: number;
  /** Method and path template, e.g. `POST /repos/{owner}/{repo}/pulls`. */
  readonly endpoint: string;
  /** GitHub's message (with its validation errors' messages), tokens redacted. */
  readonly detail: string;

  constructor(endpoint: string, status: number, detail: string) {
    const clean = redactSecrets(detail).slice(0, DETAIL_MAX_CHARS);
    super(`GitHub ${endpoint} failed: ${status === 0 ? "no response" : status}${clean ? ` (${clean})` : ""}`);
    this.status = status;
    this.endpoint = endpoint;
    this.detail = clean;
  }
}

export interface GitHubResponse<T> {
  status: number;
  data: T;
  headers: Record<string, string | number | undefined>;
}

/** Sends `route` (a method and path template) with `params`, authenticated by `authorization`. */
export type GitHubSend = <T>(
  route: string,
  params: Record<string, unknown>,
  authorization: string,
  options?: { rawBody?: boolean },
) => Promise<GitHubResponse<T>>;

/**
 * Builds the sender for one API base URL (`https://api.github.com` or a GHES `/api/v3`).
 * @example const send = githubSender("https://api.github.com"); await send("GET /app", {}, `Bearer ${jwt}`);
 */
export function githubSender(apiUrl: string, fetchImpl?: typeof fetch): GitHubSend {
  const client = request.defaults({ baseUrl: apiUrl.replace(/\/+$/, ""), headers: { "user-agent": GITHUB_USER_AGENT } });
  return async <T>(route: string, params: Record<string, unknown>, authorization: string, options: { rawBody?: boolean } = {}) => {
    const signal = AbortSignal.timeout(GITHUB_TIMEOUT_MS);
    try {
      const response = await client(route, {
        ...params,
        headers: { ...(params.headers as Record<string, string> | undefined), authorization },
        request: { signal, ...(fetchImpl ? { fetch: fetchImpl } : {}), ...(options.rawBody ? { parseSuccessResponseBody: false } : {}) },
      });
      return response as unknown as GitHubResponse<T>;
    } catch (err) {
      throw toGitHubApiError(route, err, signal);
    }
  };
}

function toGitHubApiError(route: string, err: unknown, signal: AbortSignal): GitHubApiError {
  const e = err as { status?: number; response?: { status: number; data?: unknown }; name?: string; message?: string };
  if (e.response) return new GitHubApiError(route, e.response.status, describeBody(e.response.data));
  if (signal.aborted) return new GitHubApiError(route, 0, `timed out after ${GITHUB_TIMEOUT_MS} ms`);
  return new GitHubApiError(route, 0, e.message ?? String(err));
}

/** GitHub's error body: `{ message, errors: [{ message | code }] }`, or text. */
function describeBody(data: unknown): string {
  if (typeof data === "string") return data;
  if (!data || typeof data !== "object") return "";
  const body = data as { message?: unknown; errors?: unknown };
  const parts = typeof body.message === "string" ? [body.message] : [];
  if (Array.isArray(body.errors)) {
    for (const item of body.errors) {
      if (typeof item === "string") parts.push(item);
      else if (item && typeof item === "object") {
        const { message, code, field } = item as { message?: unknown; code?: unknown; field?: unknown };
        if (typeof message === "string") parts.push(message);
        else if (typeof code === "string") parts.push(typeof field === "string" ? `${field} ${code}` : code);
      }
    }
  }
  return parts.join(": ");
}

/** Installation tokens, OAuth and personal tokens, and JWTs, should any ever be echoed back. */
export function redactSecrets(text: string): string {
  return text.replace(/\bgh[opsur]_[A-Za-z0-9_]+/g, "[REDACTED]").replace(/\beyJ[\w-]+\.[\w-]+\.[\w-]+/g, "[REDACTED]");
}
