/**
 * Meters: what each provider's answer says a model call used, read as the answer streams by.
 *
 * The model gateway hands every answer's bytes to a meter chosen by the request's path (which
 * API was called) and the answer's content type (server-sent events or one JSON body). Each
 * meter turns the provider's own usage fields into the same four disjoint counts:
 *
 * - `input_tokens`: prompt tokens billed at the input price — cached-read tokens excluded
 *   (OpenAI and Gemini count them inside the prompt total; Anthropic already leaves them out);
 * - `cache_read_input_tokens`: prompt tokens read from the provider's cache;
 * - `cache_creation_input_tokens`: prompt tokens written to the cache, where the provider
 *   reports them (Anthropic; 0 elsewhere);
 * - `output_tokens`: generated tokens, reasoning and thoughts included (OpenAI counts reasoning
 *   inside its output total; Gemini reports thoughts apart, so they are added).
 *
 * A stream cut short still counts what it had reported when it stopped: Anthropic's input
 * counts come first (`message_start`), Gemini's cumulative counts with every chunk; OpenAI
 * reports usage only at the end, so a cut stream counts the call with what was seen (often 0).
 * @module
 */
import { StringDecoder } from "node:string_decoder";

/** Token counts of one call or many, as the provider billed them; disjoint, so they add up. */
export interface ModelTokens {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

/** The APIs the gateway can meter, told apart by the request's path. */
export type ModelApi = "anthropic-messages" | "openai-responses" | "openai-chat" | "gemini" | "unknown";

/** Called once per metered call with the model the provider named and what it billed. */
export type RecordCall = (model: string, tokens: ModelTokens) => void;

/** Reads one answer: every chunk as it passes, then its end (or the cut). */
export interface Meter {
  push(chunk: Buffer): void;
  end(): void;
}

/** A JSON answer is read for its usage up to this size; bigger ones pass unread (no real answer body comes near it). */
export const JSON_METER_MAX_BYTES = 8 * 1_048_576;

/** An SSE line is kept for parsing up to this size; a longer one (a huge delta) is skipped, and holds no usage. */
const SSE_LINE_MAX_BYTES = 4 * 1_048_576;

export const zeroTokens = (): ModelTokens => ({ input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });

/**
 * Which API a request path calls. The path is what follows the gateway's origin, so it may carry
 * a version prefix (`/v1/responses`) or not (`/responses`, when the CLI's base URL holds `/v1`).
 * @example
 * apiOfPath("/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse") // "gemini"
 */
export function apiOfPath(path: string): ModelApi {
  const pathname = path.split("?")[0]!.replace(/\/+$/, "");
  if (/\/messages(\/count_tokens)?$/.test(pathname)) return "anthropic-messages";
  if (/\/responses(\/compact)?$/.test(pathname)) return "openai-responses";
  if (/\/chat\/completions$/.test(pathname)) return "openai-chat";
  if (/\/models\/[^/]+:[A-Za-z]+$/.test(pathname) || pathname.startsWith("/v1beta/")) return "gemini";
  return "unknown";
}

/** The model a Gemini path names (`…/models/gemini-2.5-pro:generateContent` → `gemini-2.5-pro`). */
export function geminiModelOfPath(path: string): string | null {
  const match = /\/models\/([^/:?]+):/.exec(path);
  return match ? decodeURIComponent(match[1]!) : null;
}

/**
 * The meter for an answer to a call of `api`, by its content type; a meter that reads nothing
 * for answers that carry no usage (errors in HTML, an unknown API).
 * @example
 * const meter = meterFor("openai-chat", "/v1/chat/completions", "text/event-stream", record);
 */
export function meterFor(api: ModelApi, path: string, contentType: string, record: RecordCall): Meter {
  const sse = contentType.includes("text/event-stream");
  const json = contentType.includes("application/json");
  switch (api) {
    case "anthropic-messages":
      return sse ? anthropicStream(record) : json ? jsonBody((body) => anthropicJson(body, record)) : NO_METER;
    case "openai-responses":
      return sse ? responsesStream(record) : json ? jsonBody((body) => responsesJson(body, record)) : NO_METER;
    case "openai-chat":
      return sse ? chatStream(record) : json ? jsonBody((body) => chatJson(body, record)) : NO_METER;
    case "gemini": {
      const fromPath = geminiModelOfPath(path) ?? "unknown";
      return sse ? geminiStream(fromPath, record) : json ? jsonBody((body) => geminiJson(body, fromPath, record)) : NO_METER;
    }
    default:
      return NO_METER;
  }
}

const NO_METER: Meter = { push: () => undefined, end: () => undefined };

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

/** A count the provider reported, or 0 when it is missing or not a count. */
function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? Math.floor(value) : 0;
}

const modelOf = (value: unknown, fallback = "unknown"): string => (typeof value === "string" && value !== "" ? value : fallback);

/** Server-sent events, line by line: each `data:` payload that is JSON goes to `onData`. */
function sseLines(onData: (data: Json | "[DONE]") => void, onEnd: () => void): Meter {
  const decoder = new StringDecoder("utf8");
  let pending = "";
  const line = (text: string) => {
    if (!text.startsWith("data:")) return;
    const payload = text.slice(5).trim();
    if (payload === "[DONE]") return onData("[DONE]");
    let data: unknown;
    try {
      data = JSON.parse(payload);
    } catch {
      return; // Not JSON (a keep-alive, say): nothing to count.
    }
    if (isObject(data)) onData(data);
  };
  return {
    push(chunk) {
      pending += decoder.write(chunk);
      const lines = pending.split(/\r?\n/);
      pending = lines.pop() ?? "";
      // A line longer than any usage event is a content delta: drop it rather than hold it.
      if (pending.length > SSE_LINE_MAX_BYTES) pending = "";
      for (const text of lines) line(text);
    },
    end() {
      line(pending + decoder.end());
      pending = "";
      onEnd();
    },
  };
}

/** One JSON body, read whole (up to `JSON_METER_MAX_BYTES`) when it ends. */
function jsonBody(onBody: (body: unknown) => void): Meter {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    push(chunk) {
      size += chunk.length;
      if (size <= JSON_METER_MAX_BYTES) chunks.push(chunk);
    },
    end() {
      if (size > JSON_METER_MAX_BYTES) return;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return; // Not JSON after all (an error page): nothing was billed that we can read.
      }
      onBody(body);
    },
  };
}

// Anthropic Messages: counts already disjoint; the stream's `message_delta` carries cumulative
// counts that replace the start's.

function anthropicTokens(usage: unknown, base: ModelTokens = zeroTokens()): ModelTokens {
  if (!isObject(usage)) return base;
  const out = { ...base };
  for (const key of ["input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"] as const) {
    if (typeof usage[key] === "number") out[key] = count(usage[key]);
  }
  return out;
}

function anthropicJson(body: unknown, record: RecordCall): void {
  if (isObject(body) && isObject(body.usage)) record(modelOf(body.model), anthropicTokens(body.usage));
}

function anthropicStream(record: RecordCall): Meter {
  let model: string | null = null;
  let tokens = zeroTokens();
  const done = () => {
    if (model !== null) record(model, tokens);
    model = null;
  };
  return sseLines((event) => {
    if (event === "[DONE]") return;
    if (event.type === "message_start" && isObject(event.message)) {
      model = modelOf(event.message.model);
      tokens = anthropicTokens(event.message.usage);
    } else if (event.type === "message_delta" && model !== null) {
      tokens = anthropicTokens(event.usage, tokens);
    } else if (event.type === "message_stop") {
      done();
    }
  }, done);
}

// OpenAI: prompt totals include cached tokens, output totals include reasoning.

function openaiTokens(prompt: unknown, cached: unknown, output: unknown): ModelTokens {
  const read = Math.min(count(cached), count(prompt));
  return { input_tokens: count(prompt) - read, output_tokens: count(output), cache_read_input_tokens: read, cache_creation_input_tokens: 0 };
}

function responsesTokens(usage: unknown): ModelTokens {
  if (!isObject(usage)) return zeroTokens();
  const details = isObject(usage.input_tokens_details) ? usage.input_tokens_details : {};
  return openaiTokens(usage.input_tokens, details.cached_tokens, usage.output_tokens);
}

function chatTokens(usage: unknown): ModelTokens {
  if (!isObject(usage)) return zeroTokens();
  const details = isObject(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {};
  return openaiTokens(usage.prompt_tokens, details.cached_tokens, usage.completion_tokens);
}

function responsesJson(body: unknown, record: RecordCall): void {
  if (isObject(body) && isObject(body.usage)) record(modelOf(body.model), responsesTokens(body.usage));
}

/** Responses stream: `response.created` names the model; the closing event carries `response.usage`. */
function responsesStream(record: RecordCall): Meter {
  let model: string | null = null;
  let tokens = zeroTokens();
  let recorded = false;
  return sseLines(
    (event) => {
      if (event === "[DONE]" || !isObject(event.response)) return;
      const response = event.response;
      if (typeof response.model === "string") model = response.model;
      // `response.completed`, and `response.incomplete` / `response.failed`, which are billed too.
      if (isObject(response.usage)) tokens = responsesTokens(response.usage);
      if (event.type === "response.completed" || event.type === "response.incomplete" || event.type === "response.failed") {
        if (!recorded && model !== null) record(model, tokens);
        recorded = true;
      }
    },
    () => {
      if (!recorded && model !== null) record(model, tokens);
      recorded = true;
    },
  );
}

function chatJson(body: unknown, record: RecordCall): void {
  if (isObject(body) && isObject(body.usage)) record(modelOf(body.model), chatTokens(body.usage));
}

/** Chat Completions stream: every chunk names the model; the last (with `include_usage`) carries `usage`. */
function chatStream(record: RecordCall): Meter {
  let model: string | null = null;
  let tokens = zeroTokens();
  let recorded = false;
  const done = () => {
    if (!recorded && model !== null) record(model, tokens);
    recorded = true;
  };
  return sseLines((event) => {
    if (event === "[DONE]") return done();
    if (typeof event.model === "string" && event.model !== "") model = event.model;
    if (isObject(event.usage)) tokens = chatTokens(event.usage);
  }, done);
}

// Gemini: `promptTokenCount` includes cached content; thoughts are reported beside candidates.

function geminiTokens(usage: unknown): ModelTokens {
  if (!isObject(usage)) return zeroTokens();
  const prompt = count(usage.promptTokenCount) + count(usage.toolUsePromptTokenCount);
  const read = Math.min(count(usage.cachedContentTokenCount), prompt);
  return {
    input_tokens: prompt - read,
    output_tokens: count(usage.candidatesTokenCount) + count(usage.thoughtsTokenCount),
    cache_read_input_tokens: read,
    cache_creation_input_tokens: 0,
  };
}

/** One `generateContent` answer, or the JSON array `streamGenerateContent` answers without `alt=sse`. */
function geminiJson(body: unknown, fromPath: string, record: RecordCall): void {
  const chunks = Array.isArray(body) ? body.filter(isObject) : isObject(body) ? [body] : [];
  let model: string | null = null;
  let usage: unknown = null;
  for (const chunk of chunks) {
    if (typeof chunk.modelVersion === "string") model = chunk.modelVersion;
    if (isObject(chunk.usageMetadata)) usage = chunk.usageMetadata;
  }
  if (usage !== null) record(modelOf(model, fromPath), geminiTokens(usage));
}

/** `streamGenerateContent?alt=sse`: every chunk may carry cumulative `usageMetadata`; the last wins. */
function geminiStream(fromPath: string, record: RecordCall): Meter {
  let model: string | null = null;
  let usage: unknown = null;
  return sseLines(
    (event) => {
      if (event === "[DONE]") return;
      if (typeof event.modelVersion === "string") model = event.modelVersion;
      if (isObject(event.usageMetadata)) usage = event.usageMetadata;
    },
    () => {
      if (usage !== null || model !== null) record(modelOf(model, fromPath), geminiTokens(usage));
    },
  );
}
