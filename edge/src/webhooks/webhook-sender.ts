/**
 * Sends one webhook attempt: signs it (Standard Webhooks), posts it with a time limit and
 * without following redirects, and reports what came back. It never throws: every way an
 * attempt can go wrong becomes an `AttemptResult` the delivery records.
 * @module
 */
import { parseTraceparent } from "#api/trace-context.js";
import { signWebhook } from "#api/webhook-signature.js";
import { parseRetryAfter, statusError, type AttemptResult } from "./delivery-policy.js";

/** Bytes of the receiver's answer kept with the attempt, to debug it; the rest is discarded. */
export const RESPONSE_EXCERPT_MAX_BYTES = 1_024;

export const WEBHOOK_USER_AGENT = "CodeForge-Webhooks/1.0 (+https://www.standardwebhooks.com)";

export interface WebhookRequest {
  url: string;
  /** The exact bytes to sign and send. */
  body: string;
  /** The message id (`webhook-id`), the same on every attempt. */
  id: string;
  /** Current secret first; the previous one too during a rotation's overlap. */
  secrets: readonly string[];
  /** This attempt's place in the task's trace (its own span id), sent as is. */
  traceparent: string;
  timeoutMs: number;
}

export interface SenderDeps {
  fetch?: typeof fetch;
  now?: () => number;
}

/**
 * Sends `request` once.
 * @example const result = await sendWebhook({ url, body, id, secrets, traceparent, timeoutMs: 15_000 });
 */
export async function sendWebhook(request: WebhookRequest, deps: SenderDeps = {}): Promise<AttemptResult> {
  const doFetch = deps.fetch ?? fetch;
  const now = deps.now ?? Date.now;
  const started = now();
  const { traceparent } = request;
  const headers = {
    "content-type": "application/json",
    "user-agent": WEBHOOK_USER_AGENT,
    ...(await signWebhook({ secrets: request.secrets, id: request.id, timestamp: Math.floor(started / 1000), body: request.body })),
    traceparent,
    "x-trace-id": parseTraceparent(traceparent)!.traceId,
  };
  const signal = AbortSignal.timeout(request.timeoutMs);
  let response: Response;
  try {
    response = await doFetch(request.url, { method: "POST", headers, body: request.body, redirect: "manual", signal });
  } catch (err) {
    return { status: null, latencyMs: now() - started, error: describeFetchError(err, request.timeoutMs), retryAfterMs: null, responseExcerpt: null };
  }
  const latencyMs = now() - started;
  const responseExcerpt = await readExcerpt(response);
  const ok = response.status >= 200 && response.status < 300;
  return {
    status: response.status,
    latencyMs,
    error: ok ? null : statusError(response.status, response.headers.get("location")),
    retryAfterMs: parseRetryAfter(response.headers.get("retry-after"), now()),
    responseExcerpt,
  };
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  const name = (err as { name?: string })?.name;
  if (name === "TimeoutError" || name === "AbortError") return `no response within ${timeoutMs} ms`;
  const message = err instanceof Error ? err.message : String(err);
  return `request failed: ${message.slice(0, 300)}`;
}

/** Up to `RESPONSE_EXCERPT_MAX_BYTES` of the body as text; the rest is not read. */
async function readExcerpt(response: Response): Promise<string | null> {
  if (!response.body) return null;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < RESPONSE_EXCERPT_MAX_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // The answer was cut off or timed out mid-body; the status already says what counts.
  } finally {
    reader.cancel().catch(() => {
      // Nothing to release beyond the stream; a failed cancel only means it already ended.
    });
  }
  if (size === 0) return null;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  // Decoding a cut-off multi-byte character yields U+FFFD rather than an error.
  return new TextDecoder().decode(bytes.subarray(0, RESPONSE_EXCERPT_MAX_BYTES));
}
