/**
 * A typed client for the public CodeForge API, used by the start script, the end-to-end
 * tests and the benchmarks (and the command-line client to come).
 *
 * Errors come back as `CodeForgeError` carrying the envelope's code, message and request id.
 * @module
 */
import { ErrorBody } from "../api/errors.js";
import { EventsPage } from "../api/stream-events.js";
import { Task, type CreateTaskInput, type FollowUpRequest } from "../api/task.js";

export class CodeForgeError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
    readonly field?: string,
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
    schema: { parse(value: unknown): T },
  ): Promise<T> {
    const response = await this.fetchImpl(this.baseUrl + path, {
      method,
      body: init.body,
      headers: { ...this.authHeaders, ...init.headers },
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      throw new CodeForgeError(response.status, "invalid_response", `edge answered ${response.status} with non-JSON`, null);
    }
    if (!response.ok) {
      const envelope = ErrorBody.safeParse(json);
      if (envelope.success) {
        const e = envelope.data.error;
        throw new CodeForgeError(response.status, e.code, e.message, e.request_id, e.field);
      }
      throw new CodeForgeError(response.status, "http_error", `edge answered ${response.status}`, null);
    }
    return schema.parse(json);
  }
}
