/**
 * The model gateway: the CLI's model API calls leave the sandbox through the runner, which puts
 * the real key in — so the key never enters the sandbox — and reads the usage of every call.
 *
 * Inside the sandbox the CLI is pointed at `http://model-gateway.codeforge.invalid` (a name that
 * exists nowhere: `.invalid` is reserved) with a placeholder credential made for the attempt.
 * Its request goes through the sandbox's only way out, the egress proxy, which hands requests
 * for that name to this module instead of the network. The gateway accepts only the placeholder,
 * replaces it with the real credential, forwards the call to the upstream (the provider's API or
 * the operator's endpoint) and streams the answer back as it comes. A repository that points the
 * CLI somewhere else (a project settings file, a `.env`) can then only send the placeholder, and
 * only to a host the egress policy allows.
 *
 * Metering: the answer is read as it passes — server-sent events or one JSON body — for the
 * usage the provider reports (Anthropic Messages: `message_start` and `message_delta`, or the
 * body's `usage`), summed over every call of the attempt, subagents and side calls included,
 * per model. Responses are asked for uncompressed (`accept-encoding: identity`) so they can be
 * read; the bytes the CLI gets are the upstream's, unchanged.
 * @module
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { StringDecoder } from "node:string_decoder";
import { HOP_BY_HOP } from "./hop-by-hop.js";

/** The name the CLI calls the gateway by; reserved (RFC 2606), so it resolves nowhere else. */
export const MODEL_GATEWAY_HOST = "model-gateway.codeforge.invalid";

/** The base URL a CLI in the sandbox is given for its model API. */
export const MODEL_GATEWAY_URL = `http://${MODEL_GATEWAY_HOST}`;

/** A JSON answer is read for its usage up to this size; bigger ones pass unread. */
const JSON_METER_MAX_BYTES = 8 * 1_048_576;

/** Headers that describe one hop, or that the gateway sets itself. */
const NOT_FORWARDED: ReadonlySet<string> = new Set([...HOP_BY_HOP, "host", "x-api-key", "authorization", "accept-encoding"]);

/** Where the calls go and with which credential. */
export interface ModelUpstream {
  /** The provider's API (`https://api.anthropic.com`) or the operator's endpoint. */
  baseUrl: string;
  /** How the credential is sent: `x-api-key: <key>` or `authorization: Bearer <key>`. */
  header: "x-api-key" | "authorization";
  /** The real credential. Secret: never in the sandbox, never logged. */
  key: string;
}

/** Token counts, as the provider billed them. */
export interface ModelTokens {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

/** An attempt's model calls: the totals and the same per model. */
export interface ModelUsage extends ModelTokens {
  calls: number;
  by_model: Record<string, ModelTokens & { calls: number }>;
}

export interface ModelGateway {
  /** The credential the CLI is given instead of the real one. */
  readonly placeholder: string;
  /** Serves one request the egress proxy received for `MODEL_GATEWAY_HOST`. */
  handle(req: http.IncomingMessage, res: http.ServerResponse, path: string): void;
  /** What the attempt's calls used so far. */
  usage(): ModelUsage;
}

const zero = (): ModelTokens => ({ input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });

/**
 * @example
 * const gateway = createModelGateway({ upstream: { baseUrl: "https://api.anthropic.com", header: "x-api-key", key } });
 * // the CLI gets ANTHROPIC_BASE_URL=MODEL_GATEWAY_URL, ANTHROPIC_API_KEY=gateway.placeholder
 */
export function createModelGateway(options: { upstream: ModelUpstream; onCall?: (model: string, tokens: ModelTokens) => void }): ModelGateway {
  const placeholder = `cf-gateway-${randomBytes(18).toString("hex")}`;
  const total: ModelUsage = { calls: 0, ...zero(), by_model: {} };
  const base = new URL(options.upstream.baseUrl);
  const client = base.protocol === "https:" ? https : http;

  function record(model: string, tokens: ModelTokens): void {
    const entry = (total.by_model[model] ??= { calls: 0, ...zero() });
    total.calls++;
    entry.calls++;
    for (const key of Object.keys(tokens) as (keyof ModelTokens)[]) {
      total[key] += tokens[key];
      entry[key] += tokens[key];
    }
    options.onCall?.(model, tokens);
  }

  function refuse(res: http.ServerResponse, status: number, message: string): void {
    const body = JSON.stringify({ type: "error", error: { type: status === 401 ? "authentication_error" : "api_error", message } });
    res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) }).end(body);
  }

  return {
    placeholder,
    usage: () => structuredClone(total),
    handle(req, res, path) {
      const given = (req.headers["x-api-key"] as string | undefined) ?? req.headers.authorization?.replace(/^Bearer\s+/i, "");
      if (given !== placeholder) {
        req.resume();
        return refuse(res, 401, "the model gateway accepts only the credential this attempt was given");
      }
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(req.headers)) if (value !== undefined && !NOT_FORWARDED.has(name)) headers[name] = value;
      headers["accept-encoding"] = "identity";
      if (options.upstream.header === "x-api-key") headers["x-api-key"] = options.upstream.key;
      else headers.authorization = `Bearer ${options.upstream.key}`;
      const target = new URL(`${base.pathname.replace(/\/+$/, "")}${path}`, base);
      const upstream = client.request(target, { method: req.method, headers });
      upstream.on("response", (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, stripHopByHop(answer.headers));
        const meter = meterFor(String(answer.headers["content-type"] ?? ""), record);
        answer.on("data", (chunk: Buffer) => meter.push(chunk));
        answer.on("end", () => meter.end());
        answer.pipe(res);
        answer.on("error", () => res.destroy());
      });
      upstream.on("error", (err: NodeJS.ErrnoException) => {
        if (res.headersSent) res.destroy();
        else refuse(res, 502, `the model API could not be reached (${err.code ?? "error"})`);
      });
      res.on("close", () => upstream.destroy());
      req.pipe(upstream);
    },
  };
}

function stripHopByHop(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const kept: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) kept[name] = value;
  }
  return kept;
}

interface Meter {
  push(chunk: Buffer): void;
  end(): void;
}

type Record_ = (model: string, tokens: ModelTokens) => void;

/** Reads the usage from an answer as it streams by: SSE events, or one JSON body. */
function meterFor(contentType: string, record: Record_): Meter {
  if (contentType.includes("text/event-stream")) return sseMeter(record);
  if (contentType.includes("application/json")) return jsonMeter(record);
  return { push: () => undefined, end: () => undefined };
}

/** Anthropic's stream: the model and input counts in `message_start`, output in `message_delta`. */
function sseMeter(record: Record_): Meter {
  const decoder = new StringDecoder("utf8");
  let pending = "";
  let model: string | null = null;
  let tokens = zero();
  const line = (text: string) => {
    if (!text.startsWith("data:")) return;
    let event: { type?: string; message?: { model?: string; usage?: Partial<ModelTokens> }; usage?: Partial<ModelTokens> };
    try {
      event = JSON.parse(text.slice(5));
    } catch {
      return; // Not JSON (a keep-alive, say): nothing to count.
    }
    if (event.type === "message_start" && event.message) {
      model = event.message.model ?? "unknown";
      tokens = { ...zero(), ...pick(event.message.usage) };
    } else if (event.type === "message_delta" && event.usage && model !== null) {
      // Cumulative counts: a field the delta carries replaces the start's.
      tokens = { ...tokens, ...pick(event.usage) };
    } else if (event.type === "message_stop" && model !== null) {
      record(model, tokens);
      model = null;
    }
  };
  return {
    push(chunk) {
      pending += decoder.write(chunk);
      const lines = pending.split(/\r?\n/);
      pending = lines.pop() ?? "";
      for (const text of lines) line(text);
    },
    end() {
      line(pending + decoder.end());
      // A stream cut before message_stop still used what it reported.
      if (model !== null) record(model, tokens);
    },
  };
}

function jsonMeter(record: Record_): Meter {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    push(chunk) {
      size += chunk.length;
      if (size <= JSON_METER_MAX_BYTES) chunks.push(chunk);
    },
    end() {
      if (size > JSON_METER_MAX_BYTES) return;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { model?: string; usage?: Partial<ModelTokens> };
        if (body.usage) record(body.model ?? "unknown", { ...zero(), ...pick(body.usage) });
      } catch {
        // Not JSON after all (an error page): nothing was billed that we can read.
      }
    },
  };
}

/** The four counts from a provider's usage object, ignoring anything else in it. */
function pick(usage: Partial<ModelTokens> | undefined): Partial<ModelTokens> {
  const out: Partial<ModelTokens> = {};
  for (const key of ["input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"] as const) {
    const value = usage?.[key];
    if (typeof value === "number" && Number.isFinite(value) && value >= 0) out[key] = value;
  }
  return out;
}
