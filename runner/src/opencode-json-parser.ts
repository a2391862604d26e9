/**
 * opencode's `opencode run --format json` events as `AgentEvent`s.
 *
 * One JSON object per line, `{type, timestamp, sessionID, part | error}` (from opencode's
 * `cli/cmd/run.ts`): `step_start`, `text` (`part.text`, emitted once the text part is
 * complete), `tool_use` (emitted when the tool finished: `part.tool`, `part.state.status`
 * completed or error, `part.state.input`, `part.state.output`, `part.state.error`),
 * `step_finish` (`part.reason`, `part.cost`, `part.tokens.input/output/cache.read/cache.write`) and `error`
 * (`error.name`, `error.data.message`). A step that finishes for any reason but `tool-calls`
 * ends the run: that is where the `result` event (with cost and tokens summed over the
 * steps) comes from.
 * @module
 */
import { OUTPUT_CHUNK_MAX_BYTES, type AgentEvent } from "../../api/index.js";
import type { OutputParser } from "./cli/cli-adapter.js";
import { createJsonLinesParser, isRecord } from "./json-lines-parser.js";
import { splitUtf8, truncateUtf8 } from "./utf8-text.js";

/**
 * @example
 * const parser = createOpencodeJsonParser();
 * batcher.pushEvents(parser.push(chunk));
 */
export function createOpencodeJsonParser(options: { lineMaxBytes?: number } = {}): OutputParser {
  let started = false;
  let lastText: string | null = null;
  let cost = 0;
  let inputTokens = 0;
  let outputTokens = 0;
  let cacheReadTokens = 0;
  let cacheWriteTokens = 0;
  let sawCache = false;

  function eventsFrom(json: unknown): AgentEvent[] {
    if (!isRecord(json)) return [];
    const part = isRecord(json.part) ? json.part : {};
    switch (json.type) {
      case "step_start":
        if (started) return [];
        started = true;
        return [{ type: "agent", kind: "init" }];
      case "text": {
        if (typeof part.text !== "string" || part.text.length === 0) return [];
        lastText = part.text;
        return splitUtf8(part.text, OUTPUT_CHUNK_MAX_BYTES).map((text) => ({ type: "agent", kind: "text", text }) as AgentEvent);
      }
      case "tool_use": {
        const state = isRecord(part.state) ? part.state : {};
        const failed = state.status === "error";
        const result = failed ? state.error : state.output;
        return [
          {
            type: "agent",
            kind: "tool_use",
            tool: truncateUtf8(typeof part.tool === "string" ? part.tool : "tool", 200),
            input: truncateUtf8(JSON.stringify(state.input ?? {}), OUTPUT_CHUNK_MAX_BYTES),
          },
          { type: "agent", kind: "tool_result", text: truncateUtf8(typeof result === "string" ? result : "", OUTPUT_CHUNK_MAX_BYTES), ...(failed ? { is_error: true } : {}) },
        ];
      }
      case "step_finish": {
        const tokens = isRecord(part.tokens) ? part.tokens : {};
        if (isAmount(part.cost)) cost += part.cost;
        if (isAmount(tokens.input)) inputTokens += Math.round(tokens.input);
        if (isAmount(tokens.output)) outputTokens += Math.round(tokens.output);
        const cache = isRecord(tokens.cache) ? tokens.cache : {};
        if (isRecord(tokens.cache)) sawCache = true;
        if (isAmount(cache.read)) cacheReadTokens += Math.round(cache.read);
        if (isAmount(cache.write)) cacheWriteTokens += Math.round(cache.write);
        if (part.reason === "tool-calls") return [];
        return [
          {
            type: "agent",
            kind: "result",
            is_error: false,
            ...(lastText !== null ? { text: truncateUtf8(lastText, OUTPUT_CHUNK_MAX_BYTES) } : {}),
            cost_usd: cost,
            input_tokens: inputTokens,
            output_tokens: outputTokens,
            ...(sawCache ? { cache_read_input_tokens: cacheReadTokens, cache_creation_input_tokens: cacheWriteTokens } : {}),
          },
        ];
      }
      case "error": {
        const error = isRecord(json.error) ? json.error : {};
        const data = isRecord(error.data) ? error.data : {};
        const message = typeof data.message === "string" ? data.message : typeof error.name === "string" ? error.name : "opencode reported an error";
        return [{ type: "agent", kind: "result", is_error: true, text: truncateUtf8(message, OUTPUT_CHUNK_MAX_BYTES) }];
      }
      default:
        return [];
    }
  }

  return createJsonLinesParser(eventsFrom, options);
}

function isAmount(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}
