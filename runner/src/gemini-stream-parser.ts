/**
 * Gemini CLI's headless `--output-format stream-json` events as `AgentEvent`s.
 *
 * One JSON object per line, as its headless-mode reference documents: `init` (`session_id`,
 * `model`), `message` (`role` user or assistant, `content`, `delta` for streamed pieces),
 * `tool_use` (`tool_name`, `tool_id`, `parameters`), `tool_result` (`tool_id`, `status`
 * success or error, `output`, `error`), `error` (`severity`, `message`) and a closing
 * `result` (`status`, `stats` with `input_tokens` and `output_tokens`). The closing event
 * carries no text, so the final message is the assistant text after the last tool call.
 * @module
 */
import { OUTPUT_CHUNK_MAX_BYTES, type AgentEvent } from "../../api/index.js";
import type { OutputParser } from "./cli/cli-adapter.js";
import { createJsonLinesParser, isRecord } from "./json-lines-parser.js";
import { splitUtf8, truncateUtf8 } from "./utf8-text.js";

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
        return [
          {
            type: "agent",
            kind: "tool_use",
            tool: truncateUtf8(typeof json.tool_name === "string" ? json.tool_name : "tool", 200),
            input: truncateUtf8(JSON.stringify(json.parameters ?? {}), OUTPUT_CHUNK_MAX_BYTES),
          },
        ];
      case "tool_result": {
        const failed = json.status === "error";
        const text = failed && isRecord(json.error) && typeof json.error.message === "string" ? json.error.message : typeof json.output === "string" ? json.output : "";
        return [{ type: "agent", kind: "tool_result", text: truncateUtf8(text, OUTPUT_CHUNK_MAX_BYTES), ...(failed ? { is_error: true } : {}) }];
      }
      case "error":
        return [{ type: "agent", kind: "text", is_error: true, text: truncateUtf8(typeof json.message === "string" ? json.message : "gemini reported an error", OUTPUT_CHUNK_MAX_BYTES) }];
      case "result": {
        const stats = isRecord(json.stats) ? json.stats : {};
        const event: AgentEvent = { type: "agent", kind: "result", is_error: json.status !== "success" };
        if (reply) event.text = reply;
        if (isCount(stats.input_tokens)) event.input_tokens = stats.input_tokens;
        if (isCount(stats.output_tokens)) event.output_tokens = stats.output_tokens;
        return [event];
      }
      default:
        return [];
    }
  }

  return createJsonLinesParser(eventsFrom, options);
}

function truncateTail(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const pieces = splitUtf8(text, maxBytes);
  return pieces[pieces.length - 1]!;
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}
