/**
 * OpenAI Codex CLI's `codex exec --json` events as `AgentEvent`s.
 *
 * One JSON object per line (the format of codex-rs `exec_events.rs`): `thread.started`,
 * `turn.started`, `item.started` / `item.updated` / `item.completed` carrying an `item` of type
 * `agent_message` (`text`), `reasoning`, `command_execution` (`command`, `aggregated_output`,
 * `exit_code`, `status`), `file_change` (`changes: [{path, kind}]`), `mcp_tool_call` (`server`,
 * `tool`), `web_search` (`query`) or `todo_list`, then `turn.completed` with `usage`
 * (`input_tokens`, `cached_input_tokens`, `output_tokens`), or `turn.failed` / `error`. An
 * `error` saying "Reconnecting... n/m" is a model call Codex retries: a `retry` event.
 * Codex has no closing message of its own: the final message is its last `agent_message`.
 * @module
 */
import { OUTPUT_CHUNK_MAX_BYTES, type AgentEvent } from "../../api/index.js";
import type { OutputParser } from "./cli/cli-adapter.js";
import { createJsonLinesParser, isRecord } from "./json-lines-parser.js";
import { splitUtf8, truncateUtf8 } from "./utf8-text.js";

/**
 * @example
 * const parser = createCodexJsonParser();
 * batcher.pushEvents(parser.push(chunk));
 */
export function createCodexJsonParser(options: { lineMaxBytes?: number } = {}): OutputParser {
  let lastMessage: string | null = null;

  function eventsFrom(json: unknown): AgentEvent[] {
    if (!isRecord(json)) return [];
    switch (json.type) {
      case "thread.started":
        return [{ type: "agent", kind: "init" }];
      case "item.started":
      case "item.completed":
        return isRecord(json.item) ? itemEvents(json.item, json.type === "item.completed") : [];
      case "turn.completed": {
        const usage = isRecord(json.usage) ? json.usage : {};
        const event: AgentEvent = { type: "agent", kind: "result", is_error: false };
        if (lastMessage !== null) event.text = truncateUtf8(lastMessage, OUTPUT_CHUNK_MAX_BYTES);
        if (isCount(usage.input_tokens)) event.input_tokens = usage.input_tokens;
        if (isCount(usage.output_tokens)) event.output_tokens = usage.output_tokens;
        if (isCount(usage.cached_input_tokens)) event.cache_read_input_tokens = usage.cached_input_tokens;
        return [event];
      }
      case "turn.failed":
        return [{ type: "agent", kind: "result", is_error: true, text: truncateUtf8(errorMessage(json.error), OUTPUT_CHUNK_MAX_BYTES) }];
      case "error": {
        const text = truncateUtf8(errorMessage(json), OUTPUT_CHUNK_MAX_BYTES);
        // "Reconnecting... 2/5 (…)": a model call Codex retries, not an error of the run.
        const retry = /^Reconnecting\.\.\. (\d+)\/(\d+)/.exec(text);
        if (retry) return [{ type: "agent", kind: "retry", attempt: Number(retry[1]), max_attempts: Number(retry[2]), text }];
        return [{ type: "agent", kind: "text", is_error: true, text }];
      }
      default:
        return [];
    }
  }

  function itemEvents(item: Record<string, unknown>, completed: boolean): AgentEvent[] {
    switch (item.type) {
      case "agent_message": {
        if (!completed || typeof item.text !== "string" || item.text.length === 0) return [];
        lastMessage = item.text;
        return splitUtf8(item.text, OUTPUT_CHUNK_MAX_BYTES).map((text) => ({ type: "agent", kind: "text", text }) as AgentEvent);
      }
      case "command_execution":
        if (!completed) return [toolUse("shell", { command: item.command })];
        return [
          {
            type: "agent",
            kind: "tool_result",
            text: truncateUtf8(typeof item.aggregated_output === "string" ? item.aggregated_output : "", OUTPUT_CHUNK_MAX_BYTES),
            ...(item.status === "failed" || (typeof item.exit_code === "number" && item.exit_code !== 0) ? { is_error: true } : {}),
          },
        ];
      case "file_change":
        return completed ? [toolUse("apply_patch", { changes: item.changes, status: item.status })] : [];
      case "mcp_tool_call": {
        const name = [item.server, item.tool].filter((part) => typeof part === "string").join(".") || "mcp";
        if (!completed) return [toolUse(name, isRecord(item.arguments) ? item.arguments : {})];
        return [{ type: "agent", kind: "tool_result", text: "", ...(item.status === "failed" ? { is_error: true } : {}) }];
      }
      case "web_search":
        return completed ? [toolUse("web_search", { query: item.query })] : [];
      default:
        return [];
    }
  }

  const parser = createJsonLinesParser(eventsFrom, options);
  return {
    push: (chunk) => parser.push(chunk),
    end: () => parser.end(),
    get finalMessage() {
      return parser.finalMessage ?? lastMessage;
    },
    get costUsd() {
      return parser.costUsd;
    },
    get usage() {
      return parser.usage;
    },
  };
}

function toolUse(tool: string, input: unknown): AgentEvent {
  return { type: "agent", kind: "tool_use", tool: truncateUtf8(tool, 200), input: truncateUtf8(JSON.stringify(input ?? {}), OUTPUT_CHUNK_MAX_BYTES) };
}

function errorMessage(value: unknown): string {
  if (isRecord(value) && typeof value.message === "string") return value.message;
  return "codex reported an error";
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}
