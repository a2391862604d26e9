/**
 * Errors from talking to the edge, and the one predicate that decides which are worth retrying.
 *
 * Like Buildkite's agent, every loop in the runner logs and retries a failure unless this
 * module says it is unrecoverable. A stale lease (409 `lease_stale`) means another attempt
 * owns the task now: the runner must stop the CLI and never retry. Other 4xx answers mean the
 * request itself is wrong, so sending it again cannot help. Network failures, timeouts, 429 and
 * 5xx are transient.
 * @module
 */
import type { ErrorCode } from "#api/index.js";

/** A non-2xx answer from the edge, or a 2xx whose body did not match the contract. */
export class EdgeError extends Error {
  override name = "EdgeError";
  constructor(
    message: string,
    /** HTTP status; 0 when the body was unreadable or malformed. */
    readonly status: number,
    /** The envelope's `error.code`, when the edge sent one. */
    readonly code: ErrorCode | "bad_response" | undefined,
    /** From `Retry-After`, when the edge sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export type EdgeErrorClass = "lease_stale" | "unrecoverable" | "retryable";

/** Sorts any error thrown by the edge client into what the caller should do with it. */
export function classifyEdgeError(err: unknown): EdgeErrorClass {
  if (err instanceof EdgeError) {
    if (err.code === "lease_stale") return "lease_stale";
    if (err.status === 408 || err.status === 429 || err.status >= 500) return "retryable";
    return "unrecoverable";
  }
  // fetch's TypeError("fetch failed"), connection resets, and our own request timeouts.
  return "retryable";
}

/** True when the edge no longer recognises this attempt's lease. */
export function isLeaseStale(err: unknown): boolean {
  return classifyEdgeError(err) === "lease_stale";
}

/** A short description for logs: status and code, or the network error's message. */
export function describeEdgeError(err: unknown): string {
  if (err instanceof EdgeError) return `${err.status || "bad response"}${err.code ? ` ${err.code}` : ""}: ${err.message}`;
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? ` (${cause.message})` : "";
    return `${err.name}: ${err.message}${detail}`;
  }
  return String(err);
}
