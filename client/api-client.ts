/**
 * A typed client for the public CodeForge API, used by the `codeforge` command, the start
 * script, the end-to-end tests and the benchmarks. Every answer is parsed with the contract's
 * schema, so a drift between client and edge shows up as an error, not as wrong output.
 *
 * Errors come back as `CodeForgeError` carrying the envelope's code, message and request id,
 * and `Retry-After` when the edge sent one; an answer that is not the API's JSON (a wrong URL)
 * is a `CodeForgeError` with code `invalid_response`.
 * @module
 */
import { AuditEntry, type AuditExportQuery, AuditPage, type AuditQuery } from "#api/audit.js";
import { z } from "zod";
import { ErrorBody } from "#api/errors.js";
import { ApiKey, ApiKeyList, ApiKeyWithSecret, type CreateKeyInput } from "#api/keys.js";
import { RunnerCredential } from "#api/runner-credential.js";
import { RunnerList } from "#api/runner-protocol.js";
import { EventsPage } from "#api/stream-events.js";
import { Task, type TaskStatus } from "#api/task.js";
import { TaskList } from "#api/task-queries.js";
import type { CreateTaskInput, FollowUpRequest } from "#api/task-request.js";
import { DeadLetterList, Delivery, DeliveryList, WebhookSecret } from "#api/webhooks.js";

export class CodeForgeError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
    readonly field?: string,
    /** Seconds the edge asked the client to wait (`Retry-After`), when it said. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
    this.name = "CodeForgeError";
  }
}

export interface ApiClientOptions {
  /** Base URL of the edge, e.g. `http://127.0.0.1:8787`. */
  baseUrl: string;
  apiKey: string;
  fetch?: typeof fetch;
  /** Per-request timeout. */
  timeoutMs?: number;
}

export class ApiClient {
  readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.apiKey = options.apiKey;
    this.fetchImpl = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  createTask(input: CreateTaskInput, options: { idempotencyKey?: string } = {}): Promise<Task> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (options.idempotencyKey) headers["idempotency-key"] = options.idempotencyKey;
    return this.request("POST", "/api/v1/tasks", { body: JSON.stringify(input), headers }, Task);
  }

  getTask(id: string): Promise<Task> {
    return this.request("GET", `/api/v1/tasks/${encodeURIComponent(id)}`, {}, Task);
  }

  /** Gives an ended task a follow-up: its next iteration, queued (202). */
  followUp(id: string, input: FollowUpRequest, options: { idempotencyKey?: string } = {}): Promise<Task> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (options.idempotencyKey) headers["idempotency-key"] = options.idempotencyKey;
    return this.request("POST", `/api/v1/tasks/${encodeURIComponent(id)}/instructions`, { body: JSON.stringify(input), headers }, Task);
  }

  cancelTask(id: string): Promise<Task> {
    return this.request("POST", `/api/v1/tasks/${encodeURIComponent(id)}/cancel`, {}, Task);
  }

  events(id: string, query: { since?: number; limit?: number } = {}): Promise<EventsPage> {
    const params = new URLSearchParams();
    if (query.since !== undefined) params.set("since", String(query.since));
    if (query.limit !== undefined) params.set("limit", String(query.limit));
    return this.request("GET", `/api/v1/tasks/${encodeURIComponent(id)}/events?${params}`, {}, EventsPage);
  }

  /** A page of the caller's tasks (an admin's: everyone's, or `owner`'s), newest first. */
  listTasks(query: { status?: TaskStatus; owner?: string; limit?: number; cursor?: string } = {}): Promise<TaskList> {
    return this.request("GET", `/api/v1/tasks${queryString(query)}`, {}, TaskList);
  }

  /** A task's webhook deliveries, each with every attempt. */
  deliveries(taskId: string): Promise<DeliveryList> {
    return this.request("GET", `/api/v1/tasks/${encodeURIComponent(taskId)}/deliveries`, {}, DeliveryList);
  }

  /** Replays a delivery: a new attempt series with the same webhook-id and body. */
  redeliver(taskId: string, deliveryId: string): Promise<Delivery> {
    const path = `/api/v1/tasks/${encodeURIComponent(taskId)}/deliveries/${encodeURIComponent(deliveryId)}/redeliver`;
    return this.request("POST", path, {}, Delivery);
  }

  /** The caller's webhook signing secret (made on first use); the edge sends it on purpose. */
  webhookSecret(): Promise<WebhookSecret> {
    return this.request("GET", "/api/v1/webhook-secret", {}, WebhookSecret);
  }

  /** A new signing secret; the old one keeps signing for `overlap_seconds` (the edge's default a day). */
  rotateWebhookSecret(input: { overlap_seconds?: number } = {}): Promise<WebhookSecret> {
    return this.request("POST", "/api/v1/webhook-secret/rotate", { body: JSON.stringify(input), headers: JSON_TYPE }, WebhookSecret);
  }

  /** A page of dead letters, newest first (admin). */
  deadLetters(query: { limit?: number; before?: string } = {}): Promise<DeadLetterList> {
    return this.request("GET", `/api/v1/dead-letters${queryString(query)}`, {}, DeadLetterList);
  }

  /** A page of the audit log, newest first, every filter matching (admin). */
  audit(query: Partial<AuditQuery> = {}): Promise<AuditPage> {
    return this.request("GET", `/api/v1/audit${queryString(query)}`, {}, AuditPage);
  }

  /**
   * The audit log of a time range, oldest first (admin): each entry's NDJSON line, as the edge
   * sent it, goes to `onLine` as it arrives. Returns the `next_cursor` the last line names when
   * the range holds more than one request reads, else null. The timeout is per chunk: a long
   * export runs as long as the edge keeps sending.
   */
  async exportAudit(query: AuditExportQuery, onLine: (line: string) => void): Promise<string | null> {
    const path = `/api/v1/audit/export${queryString(query)}`;
    const abort = new AbortController();
    let timer = setTimeout(() => abort.abort(new DOMException("no answer in time", "TimeoutError")), this.timeoutMs);
    const idle = () => {
      clearTimeout(timer);
      timer = setTimeout(() => abort.abort(new DOMException("no answer in time", "TimeoutError")), this.timeoutMs);
    };
    try {
      const response = await this.fetchImpl(this.baseUrl + path, { method: "GET", headers: this.authHeaders, signal: abort.signal });
      if (!response.ok || !response.headers.get("content-type")?.startsWith("application/x-ndjson") || !response.body) {
        const json = this.bodyJson(await response.text(), response, "GET", path);
        throw response.ok ? this.notTheApi(response, "GET", path) : this.apiError(response, json, "GET", path);
      }
      let rest = "";
      let next: string | null = null;
      const take = (line: string) => {
        if (!line.trim()) return;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          throw this.notTheApi(response, "GET", path);
        }
        const cursor = ExportCursor.safeParse(value);
        if (cursor.success) next = cursor.data.next_cursor;
        else if (AuditEntry.safeParse(value).success) onLine(line);
        else
          throw new CodeForgeError(
            200,
            "invalid_response",
            `${this.baseUrl} exported an audit line this client does not understand (is the edge another CodeForge version?)`,
            null,
          );
      };
      for await (const chunk of response.body.pipeThrough(new TextDecoderStream())) {
        idle();
        const lines = (rest + chunk).split("\n");
        rest = lines.pop()!;
        for (const line of lines) take(line);
      }
      take(rest);
      return next;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A page of the runners seen lately, across pools or of one `pool` (admin). */
  listRunners(query: { pool?: string; limit?: number; cursor?: string } = {}): Promise<RunnerList> {
    return this.request("GET", `/api/v1/runners${queryString(query)}`, {}, RunnerList);
  }

  /** A short-lived credential for one pool's runners (admin); the answer is the only time it is shown. */
  createRunnerCredential(input: { pool: string; ttl_seconds?: number }): Promise<RunnerCredential> {
    return this.request("POST", "/api/v1/runner-credentials", { body: JSON.stringify(input), headers: JSON_TYPE }, RunnerCredential);
  }

  /** A page of API keys, newest first (admin). */
  listKeys(query: { limit?: number; cursor?: string } = {}): Promise<ApiKeyList> {
    return this.request("GET", `/api/v1/keys${queryString(query)}`, {}, ApiKeyList);
  }

  getKey(id: string): Promise<ApiKey> {
    return this.request("GET", `/api/v1/keys/${encodeURIComponent(id)}`, {}, ApiKey);
  }

  /** Makes a key (admin); the answer is the only time its secret is shown. */
  createKey(input: CreateKeyInput): Promise<ApiKeyWithSecret> {
    return this.request("POST", "/api/v1/keys", { body: JSON.stringify(input), headers: JSON_TYPE }, ApiKeyWithSecret);
  }

  /** Gives a key a new secret (admin); the old one works for `overlap_seconds` more. */
  rotateKey(id: string, input: { overlap_seconds?: number } = {}): Promise<ApiKeyWithSecret> {
    return this.request("POST", `/api/v1/keys/${encodeURIComponent(id)}/rotate`, { body: JSON.stringify(input), headers: JSON_TYPE }, ApiKeyWithSecret);
  }

  revokeKey(id: string): Promise<ApiKey> {
    return this.request("POST", `/api/v1/keys/${encodeURIComponent(id)}/revoke`, {}, ApiKey);
  }

  /** The WebSocket URL of a task's stream. */
  streamUrl(id: string, since = 0): string {
    return `${this.baseUrl.replace(/^http/, "ws")}/api/v1/tasks/${encodeURIComponent(id)}/stream?since=${since}`;
  }

  /** Headers a WebSocket client must send to open a stream. */
  get authHeaders(): Record<string, string> {
    return { authorization: `Bearer ${this.apiKey}` };
  }

  private async request<T>(
    method: string,
    path: string,
    init: { body?: string; headers?: Record<string, string> },
    schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } },
  ): Promise<T> {
    const response = await this.fetchImpl(this.baseUrl + path, {
      method,
      body: init.body,
      headers: { ...this.authHeaders, ...init.headers },
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const json = this.bodyJson(await response.text(), response, method, path);
    if (!response.ok) throw this.apiError(response, json, method, path);
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new CodeForgeError(
        response.status,
        "invalid_response",
        `${this.baseUrl} answered ${method} ${path.split("?")[0]} with JSON this client does not understand (is the edge another CodeForge version?)`,
        response.headers.get("x-request-id"),
      );
    }
    return parsed.data;
  }

  /** The error an answer that is not OK stands for: the API's envelope, or "not the API". */
  /** A response body as JSON (null when empty); a body that is not JSON is not the API's answer. */
  private bodyJson(text: string, response: Response, method: string, path: string): unknown {
    try {
      return text ? JSON.parse(text) : null;
    } catch {
      throw this.notTheApi(response, method, path);
    }
  }

  private apiError(response: Response, json: unknown, method: string, path: string): CodeForgeError {
    const envelope = ErrorBody.safeParse(json);
    if (!envelope.success) return this.notTheApi(response, method, path);
    const e = envelope.data.error;
    return new CodeForgeError(response.status, e.code, e.message, e.request_id, e.field, retryAfter(response.headers.get("retry-after")));
  }

  private notTheApi(response: Response, method: string, path: string): CodeForgeError {
    return new CodeForgeError(
      response.status,
      "invalid_response",
      `${this.baseUrl} answered ${method} ${path.split("?")[0]} with HTTP ${response.status} (${response.headers.get("content-type") ?? "no content type"}), not the CodeForge API`,
      response.headers.get("x-request-id"),
    );
  }
}

const JSON_TYPE = { "content-type": "application/json" };

/** The last line of an audit export that stopped before the end of its range. */
const ExportCursor = z.strictObject({ next_cursor: z.string() });

/** `?a=1&b=2` of the defined values, or nothing. */
function queryString(query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** `Retry-After` in seconds (delta-seconds or an HTTP date); null when absent or unreadable. */
function retryAfter(header: string | null): number | null {
  if (header === null) return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1_000));
}
