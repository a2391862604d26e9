/**
 * Claude Code's `--output-format stream-json` messages as `AgentEvent`s.
 *
 * One JSON object per line: `system` (subtype `init`, with the model), `assistant` (content
 * blocks `text` and `tool_use`), `user` (`tool_result` blocks) and a closing `result` with
 * cost and token usage. Lines are split and bounded by `json-lines-parser.ts`.
 * @module
 */
import { OUTPUT_CHUNK_MAX_BYTES, type AgentEvent } from "../../api/index.js";
import type { OutputParser } from "./cli/cli-adapter.js";
import { createJsonLinesParser, isRecord } from "./json-lines-parser.js";
import { splitUtf8, truncateUtf8 } from "./utf8-text.js";

/**
 * @example
 * const parser = createClaudeStreamParser();
 * child.stdout.on("data", (chunk) => batcher.pushEvents(parser.push(chunk)));
 */
export function createClaudeStreamParser(options: { lineMaxBytes?: number } = {}): OutputParser {
  return createJsonLinesParser(eventsFromMessage, options);
}

/** The events one stream-json message stands for (often none). */
export function eventsFromMessage(json: unknown): AgentEvent[] {
  if (!isRecord(json)) return [];
  switch (json.type) {
    case "system":
      if (json.subtype !== "init") return [];
      return [{ type: "agent", kind: "init", ...(typeof json.model === "string" ? { model: truncateUtf8(json.model, 200) } : {}) }];
    case "assistant": {
      const events: AgentEvent[] = [];
      for (const block of contentBlocks(json.message)) {
        if (block.type === "text" && typeof block.text === "string" && block.text.length > 0) {
          for (const piece of splitUtf8(block.text, OUTPUT_CHUNK_MAX_BYTES)) events.push({ type: "agent", kind: "text", text: piece });
        } else if (block.type === "tool_use" && typeof block.name === "string") {
          events.push({
            type: "agent",
            kind: "tool_use",
            tool: truncateUtf8(block.name, 200),
            input: truncateUtf8(JSON.stringify(block.input ?? {}), OUTPUT_CHUNK_MAX_BYTES),
          });
        }
      }
      return events;
    }
    case "user": {
      const events: AgentEvent[] = [];
      for (const block of contentBlocks(json.message)) {
        if (block.type !== "tool_result") continue;
        events.push({
          type: "agent",
          kind: "tool_result",
          text: truncateUtf8(toolResultText(block.content), OUTPUT_CHUNK_MAX_BYTES),
          ...(block.is_error === true ? { is_error: true } : {}),
        });
      }
      return events;
    }
    case "result": {
      const usage = isRecord(json.usage) ? json.usage : {};
      const event: AgentEvent = { type: "agent", kind: "result", is_error: json.is_error === true };
      if (typeof json.result === "string") event.text = truncateUtf8(json.result, OUTPUT_CHUNK_MAX_BYTES);
      if (isCount(json.total_cost_usd, false)) event.cost_usd = json.total_cost_usd;
      if (isCount(usage.input_tokens, true)) event.input_tokens = usage.input_tokens;
      if (isCount(usage.output_tokens, true)) event.output_tokens = usage.output_tokens;
      if (isCount(usage.cache_read_input_tokens, true)) event.cache_read_input_tokens = usage.cache_read_input_tokens;
      if (isCount(usage.cache_creation_input_tokens, true)) event.cache_creation_input_tokens = usage.cache_creation_input_tokens;
      return [event];
    }
    default:
      return [];
  }
}

function contentBlocks(message: unknown): Record<string, unknown>[] {
  if (!isRecord(message) || !Array.isArray(message.content)) return [];
  return message.content.filter(isRecord);
}

function toolResultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .filter(isRecord)
      .map((part) => (part.type === "text" && typeof part.text === "string" ? part.text : `[${String(part.type)}]`))
      .join("\n");
  }
  return content === undefined ? "" : JSON.stringify(content);
}

function isCount(value: unknown, integer: boolean): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 && (!integer || Number.isInteger(value));
}
