/**
 * Gemini CLI's headless `--output-format stream-json` events as `AgentEvent`s.
 *
 * One JSON object per line, as its headless-mode reference documents: `init` (`session_id`,
 * `model`), `message` (`role` user or assistant, `content`, `delta` for streamed pieces),
 * `tool_use` (`tool_name`, `tool_id`, `parameters`), `tool_result` (`tool_id`, `status`
 * success or error, `output`, `error`), `error` (`severity` warning — a loop detected, a hook
 * blocking — or error — the model's answer unusable —, `message`) and a closing `result`
 * (`status`, `stats` with `input_tokens` and `output_tokens`; on a fatal error, Gemini CLI
 * 0.61.0 writes it with `error: {type, message}`, the message "[API Error: {json body}]" for
 * an API error). A successful closing event carries no text, so the final message is the
 * assistant text after the last tool call; a failed one's is its error. Gemini CLI retries
 * model calls silently and prints no thinking in this format.
 * @module
 */
import { OUTPUT_CHUNK_MAX_BYTES, type AgentEvent } from "#api/index.js";
import { noticeEvent, toolResultEvent, toolUseEvent } from "../agent-events.js";
import type { OutputParser } from "../cli-adapter.js";
import { createJsonLinesParser, isRecord } from "../json-lines-parser.js";
import { splitUtf8, truncateUtf8 } from "../../output/utf8-text.js";

/**
 * @example
 * const parser = createGeminiStreamParser();
 * batcher.pushEvents(parser.push(chunk));
 */
export function createGeminiStreamParser(options: { lineMaxBytes?: number } = {}): OutputParser {
  let reply = "";

  function eventsFrom(json: unknown): AgentEvent[] {
    if (!isRecord(json)) return [];
    switch (json.type) {
      case "init":
        return [{ type: "agent", kind: "init", ...(typeof json.model === "string" ? { model: truncateUtf8(json.model, 200) } : {}) }];
      case "message": {
        if (json.role !== "assistant" || typeof json.content !== "string" || json.content.length === 0) return [];
        // Bounded: only the tail matters as the final message.
        reply = truncateTail(reply + json.content, OUTPUT_CHUNK_MAX_BYTES);
        return splitUtf8(json.content, OUTPUT_CHUNK_MAX_BYTES).map((text) => ({ type: "agent", kind: "text", text }) as AgentEvent);
      }
      case "tool_use":
        reply = "";
        return [toolUseEvent(typeof json.tool_name === "string" ? json.tool_name : "tool", json.parameters, { id: json.tool_id })];
      case "tool_result": {
        const failed = json.status === "error";
        const text =
          failed && isRecord(json.error) && typeof json.error.message === "string" ? json.error.message : typeof json.output === "string" ? json.output : "";
        return [toolResultEvent(text, failed, { id: json.tool_id })];
      }
      case "error": {
        const message = typeof json.message === "string" ? json.message : "gemini reported an error";
        return [noticeEvent(json.severity === "warning" ? "warning" : "api_error", message)];
      }
      case "result": {
        const stats = isRecord(json.stats) ? json.stats : {};
        const event: AgentEvent = { type: "agent", kind: "result", is_error: json.status !== "success" };
        const error = isRecord(json.error) && typeof json.error.message === "string" ? fatalError(json.error.message) : null;
        if (error) event.text = truncateUtf8(error.message, OUTPUT_CHUNK_MAX_BYTES);
        else if (reply) event.text = reply;
        if (isCount(stats.input_tokens)) event.input_tokens = stats.input_tokens;
        if (isCount(stats.output_tokens)) event.output_tokens = stats.output_tokens;
        return error?.fromApi ? [noticeEvent("api_error", error.message, { status: error.status }), event] : [event];
      }
      default:
        return [];
    }
  }

  return createJsonLinesParser(eventsFrom, options);
}

/**
 * A fatal error's message, and whether (with which HTTP status) the model API gave it. An API
 * error reads "[API Error: …]", with Google's `{error: {code, message}}` inside when the API
 * answered one; other fatal errors (a tool's, a cancellation) are their message as it is.
 */
function fatalError(text: string): { message: string; fromApi: boolean; status?: number } {
  const inner = /^\[API Error: (.*)\]$/s.exec(text.trim())?.[1];
  if (inner === undefined) return { message: text, fromApi: false };
  try {
    const parsed: unknown = JSON.parse(inner);
    const error = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : {};
    return { message: typeof error.message === "string" ? error.message : inner, fromApi: true, ...(isCount(error.code) ? { status: error.code } : {}) };
  } catch {
    return { message: inner, fromApi: true }; // not Google's JSON body: the message as Gemini CLI wrote it
  }
}

function truncateTail(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const pieces = splitUtf8(text, maxBytes);
  return pieces[pieces.length - 1]!;
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}
