/**
 * The model gateway: the CLI's model API calls leave the sandbox through the runner, which puts
 * the real key in — so the key never enters the sandbox — meters and prices every call, and
 * refuses calls once the task's budget is spent.
 *
 * Inside the sandbox the CLI is pointed at `http://model-gateway.codeforge.invalid` (a name that
 * exists nowhere: `.invalid` is reserved) with a placeholder credential made for the attempt.
 * Its request goes through the sandbox's only way out, the egress proxy, which hands requests
 * for that name to this module instead of the network. The gateway accepts only the placeholder
 * — as `x-api-key`, `authorization: Bearer`, `x-goog-api-key` or a `key=` query parameter, the
 * ways Anthropic's, OpenAI's and Google's clients send keys — removes it wherever it was,
 * sets the real credential the way the upstream takes it, forwards the call to the upstream (the
 * provider's API or the operator's endpoint) and streams the answer back as it comes. A
 * repository that points the CLI somewhere else (a project settings file, a `.env`) can then
 * only send the placeholder, and only to a host the egress policy allows.
 *
 * Metering (`model-meters.ts`): the answer is read as it passes for the usage the provider
 * reports — Anthropic Messages, OpenAI Responses and Chat Completions, Gemini generateContent,
 * streamed or not — and summed over every call of the attempt, subagents and side calls
 * included, per model, priced by `model-prices.ts`. A streamed Chat Completions call reports
 * usage only when asked (`stream_options.include_usage`), so the gateway asks for it in the
 * request body. Responses are asked for uncompressed (`accept-encoding: identity`) so they can
 * be read; the bytes the CLI gets are the upstream's, unchanged.
 *
 * Budgets: before forwarding a call the gateway adds what earlier attempts spent to what this
 * one has; once that reaches the task's cost or token limit, it answers the call itself with an
 * error in the provider's shape that the CLIs show and do not retry, and tells the runner once
 * (`onBudgetExceeded`). Calls already under way when the limit is reached finish (and count), so
 * the spend can pass the limit by what those calls use.
 * @module
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { HOP_BY_HOP } from "./hop-by-hop.js";
import { apiOfPath, meterFor, type ModelApi, type ModelTokens } from "./model-meters.js";
import type { ModelPriceTable } from "./model-prices.js";
import { createModelSpend, type CallUsage, type ModelBudget, type ModelUsage } from "./model-spend.js";

export type { ModelTokens } from "./model-meters.js";
export type { CallUsage, ModelBudget, ModelUsage, ModelUsageEntry } from "./model-spend.js";

/** The name the CLI calls the gateway by; reserved (RFC 2606), so it resolves nowhere else. */
export const MODEL_GATEWAY_HOST = "model-gateway.codeforge.invalid";

/** The base URL a CLI in the sandbox is given for its model API. */
export const MODEL_GATEWAY_URL = `http://${MODEL_GATEWAY_HOST}`;

/**
 * A Chat Completions request body is held (to ask for the stream's usage) up to this size; a
 * bigger one passes as it came, and its stream is metered only if it asked for usage itself.
 */
export const REQUEST_METER_MAX_BYTES = 8 * 1_048_576;

/** Headers that describe one hop, or that the gateway sets itself. */
const NOT_FORWARDED: ReadonlySet<string> = new Set([...HOP_BY_HOP, "host", "x-api-key", "authorization", "x-goog-api-key", "accept-encoding"]);

/** Where the calls go and with which credential. */
export interface ModelUpstream {
  /** The provider's API (`https://api.anthropic.com`) or the operator's endpoint. */
  baseUrl: string;
  /** How the credential is sent: `x-api-key: <key>` (Anthropic), `authorization: Bearer <key>` (OpenAI, Anthropic tokens) or `x-goog-api-key: <key>` (Gemini). */
  header: "x-api-key" | "authorization" | "x-goog-api-key";
  /** The real credential. Secret: never in the sandbox, never logged, never in an answer. */
  key: string;
}

export interface ModelGatewayOptions {
  upstream: ModelUpstream;
  /** The operator's prices (runner config `model_prices`), laid over the default table. */
  prices?: ModelPriceTable;
  budget?: ModelBudget;
  /** After each metered call: the model, its tokens and cost, and the attempt's totals since. */
  onCall?: (model: string, tokens: CallUsage, totals: ModelUsage) => void;
  /** Once, when the budget is reached: by a call's usage, or by a call refused for it. */
  onBudgetExceeded?: (reason: string) => void;
}

export interface ModelGateway {
  /** The credential the CLI is given instead of the real one. */
  readonly placeholder: string;
  /** Serves one request the egress proxy received for `MODEL_GATEWAY_HOST`. */
  handle(req: http.IncomingMessage, res: http.ServerResponse, path: string): void;
  /** What the attempt's calls used so far. */
  usage(): ModelUsage;
}

/** Whose error shape an answer the gateway writes itself takes. */
type Dialect = "anthropic" | "openai" | "gemini";

/**
 * The status a refusal for budget gets, per provider: one the provider's CLI shows once and does
 * not retry, as tried with the real CLIs: Claude Code retries a 400 five more times and calls a
 * 403 "Failed to authenticate", but shows Anthropic's 402 `billing_error` as "API Error: 402
 * <message>" after one try; Codex and Gemini CLI show a 400 after one try. Never 401 (a CLI may
 * sign in again), 408/409/429 or 5xx (retried).
 */
const BUDGET_STATUS: Record<Dialect, number> = { anthropic: 402, openai: 400, gemini: 400 };

/**
 * @example
 * const gateway = createModelGateway({
 *   upstream: { baseUrl: "https://api.anthropic.com", header: "x-api-key", key },
 *   budget: { maxCostUsd: 5, maxTokens: null, spentCostUsd: 0, spentTokens: 0 },
 *   onBudgetExceeded: (reason) => stopAttempt(reason),
 * });
 * // the CLI gets ANTHROPIC_BASE_URL=MODEL_GATEWAY_URL, ANTHROPIC_API_KEY=gateway.placeholder
 */
export function createModelGateway(options: ModelGatewayOptions): ModelGateway {
  const placeholder = `cf-gateway-${randomBytes(18).toString("hex")}`;
  const placeholderBytes = Buffer.from(placeholder);
  const spend = createModelSpend({ prices: options.prices, budget: options.budget });
  const base = new URL(options.upstream.baseUrl);
  const basePath = base.pathname.replace(/\/+$/, "");
  const client = base.protocol === "https:" ? https : http;
  let exceeded = false;

  function record(model: string, tokens: ModelTokens): void {
    const call = spend.record(model, tokens);
    options.onCall?.(model, call, spend.usage());
    const reason = spend.exceeded();
    if (reason) budgetReached(reason);
  }

  function budgetReached(reason: string): void {
    if (exceeded) return;
    exceeded = true;
    options.onBudgetExceeded?.(reason);
  }

  function isPlaceholder(value: string): boolean {
    const bytes = Buffer.from(value);
    return bytes.length === placeholderBytes.length && timingSafeEqual(bytes, placeholderBytes);
  }

  return {
    placeholder,
    usage: () => spend.usage(),
    handle(req, res, path) {
      if (!path.startsWith("/")) {
        req.resume();
        return answer(res, "anthropic", 400, "the model gateway takes a path");
      }
      const api = apiOfPath(path);
      // Joined as text, never resolved: a path such as `//elsewhere.example/x` must stay a path.
      const url = new URL(`http://gateway.invalid${path}`);
      const given = [
        req.headers["x-api-key"],
        req.headers.authorization === undefined ? undefined : req.headers.authorization.replace(/^Bearer\s+/i, ""),
        req.headers["x-goog-api-key"],
        ...url.searchParams.getAll("key"),
      ].filter((v): v is string | string[] => v !== undefined);
      const dialect = dialectOf(api, req, url, options.upstream);
      if (given.length === 0 || !given.every((v) => typeof v === "string" && isPlaceholder(v))) {
        req.resume();
        return answer(res, dialect, 401, "the model gateway accepts only the credential this attempt was given");
      }
      const reason = spend.exceeded();
      if (reason) {
        req.resume();
        budgetReached(reason);
        return answer(res, dialect, BUDGET_STATUS[dialect], reason);
      }
      if (url.searchParams.has("key")) {
        url.searchParams.delete("key");
        path = `${url.pathname}${url.search}`;
      }
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(req.headers)) if (value !== undefined && !NOT_FORWARDED.has(name)) headers[name] = value;
      headers["accept-encoding"] = "identity";
      if (options.upstream.header === "authorization") headers.authorization = `Bearer ${options.upstream.key}`;
      else headers[options.upstream.header] = options.upstream.key;
      // Text joined to the upstream's origin, so no path can name another host for the key.
      const target = new URL(`${base.origin}${basePath}${path}`);

      const forward = (): http.ClientRequest => {
        const upstream = client.request(target, { method: req.method, headers });
        upstream.on("response", (reply) => {
          res.writeHead(reply.statusCode ?? 502, reply.statusMessage, stripHopByHop(reply.headers));
          const meter = meterFor(api, path, String(reply.headers["content-type"] ?? ""), record);
          reply.on("data", (chunk: Buffer) => meter.push(chunk));
          // A stream cut short (the upstream's or the CLI's side) still counts what it reported.
          let metered = false;
          const end = () => {
            if (!metered) meter.end();
            metered = true;
          };
          reply.on("end", end);
          reply.on("close", end);
          reply.pipe(res);
          reply.on("error", () => res.destroy());
        });
        upstream.on("error", (err: NodeJS.ErrnoException) => {
          if (res.headersSent) res.destroy();
          else answer(res, dialect, 502, `the model API could not be reached (${err.code ?? "error"})`);
        });
        res.on("close", () => upstream.destroy());
        return upstream;
      };

      if (api === "openai-chat" && req.method === "POST" && req.headers["content-encoding"] === undefined) {
        return holdChatBody(req, headers, forward);
      }
      req.pipe(forward());
    },
  };
}

/**
 * Holds a Chat Completions request body (up to `REQUEST_METER_MAX_BYTES`) to ask a streamed call
 * for its usage (`stream_options.include_usage`), which the stream's last chunk then carries.
 * A bigger body is sent on as it came.
 */
function holdChatBody(req: http.IncomingMessage, headers: Record<string, string | string[]>, forward: () => http.ClientRequest): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    if (size <= REQUEST_METER_MAX_BYTES) return;
    req.off("data", onData).off("end", onEnd).pause();
    const upstream = forward();
    for (const held of chunks) upstream.write(held);
    req.pipe(upstream);
  };
  const onEnd = () => {
    const body = withStreamUsage(Buffer.concat(chunks));
    headers["content-length"] = String(body.length);
    forward().end(body);
  };
  req.on("data", onData).on("end", onEnd);
}

/** The body with `stream_options.include_usage: true` when it asks for a stream without it. */
export function withStreamUsage(body: Buffer): Buffer {
  let request: unknown;
  try {
    request = JSON.parse(body.toString("utf8"));
  } catch {
    return body; // Not JSON: the upstream will say so.
  }
  if (typeof request !== "object" || request === null || Array.isArray(request)) return body;
  const fields = request as Record<string, unknown>;
  if (fields.stream !== true) return body;
  const streamOptions = typeof fields.stream_options === "object" && fields.stream_options !== null ? (fields.stream_options as Record<string, unknown>) : {};
  if (streamOptions.include_usage === true) return body;
  return Buffer.from(JSON.stringify({ ...fields, stream_options: { ...streamOptions, include_usage: true } }));
}

/** Whose API the CLI thinks it is calling: by path, else by how it sent its credential. */
function dialectOf(api: ModelApi, req: http.IncomingMessage, url: URL, upstream: ModelUpstream): Dialect {
  if (api === "anthropic-messages") return "anthropic";
  if (api === "openai-responses" || api === "openai-chat") return "openai";
  if (api === "gemini") return "gemini";
  if (req.headers["x-goog-api-key"] !== undefined || url.searchParams.has("key")) return "gemini";
  if (req.headers["x-api-key"] !== undefined || req.headers["anthropic-version"] !== undefined) return "anthropic";
  if (req.headers.authorization !== undefined) return "openai";
  return upstream.header === "x-goog-api-key" ? "gemini" : upstream.header === "x-api-key" ? "anthropic" : "openai";
}

const GEMINI_STATUS: Record<number, string> = { 400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 502: "UNAVAILABLE" };

/** An answer the gateway writes itself, in the error shape of the provider the CLI calls. */
function answer(res: http.ServerResponse, dialect: Dialect, status: number, message: string): void {
  let body: unknown;
  if (dialect === "anthropic") {
    const type = status === 401 ? "authentication_error" : status === 402 ? "billing_error" : "api_error";
    body = { type: "error", error: { type, message } };
  } else if (dialect === "openai") {
    const type = status >= 500 ? "server_error" : "invalid_request_error";
    const code = status === 401 ? "invalid_api_key" : status >= 500 ? null : "budget_exceeded";
    body = { error: { message, type, param: null, code } };
  } else {
    body = { error: { code: status, message, status: GEMINI_STATUS[status] ?? "UNKNOWN" } };
  }
  const text = JSON.stringify(body);
  // x-should-retry: Anthropic's and OpenAI's SDKs follow it over their own status rules; an
  // unreachable upstream may well answer the next try.
  const retry = status >= 500 ? {} : { "x-should-retry": "false" };
  res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), ...retry }).end(text);
}

function stripHopByHop(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const kept: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) kept[name] = value;
  }
  return kept;
}
