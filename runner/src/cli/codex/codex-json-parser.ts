/**
 * OpenAI Codex CLI's `codex exec --json` events as `AgentEvent`s.
 *
 * One JSON object per line (the format of codex-rs `exec_events.rs`, as Codex 0.171.0 prints
 * it): `thread.started`, `turn.started`, `item.started` / `item.updated` / `item.completed`
 * carrying an `item` with an `id` and a type: `agent_message` (`text`), `reasoning` (a summary,
 * `text`), `command_execution` (`command`, `aggregated_output`, `exit_code`, `status`, which is
 * `declined` when the command was refused), `file_change` (`changes: [{path, kind}]`, `status`),
 * `mcp_tool_call` (`server`, `tool`, `arguments`, `result`, `error`), `collab_tool_call` (a
 * subagent spawned, waited on, …: `tool`, `prompt`, `agents_states`), `web_search` (`query`),
 * `todo_list`, or `error` (a warning: a config or deprecation notice, a model rerouted); then
 * `turn.completed` with `usage` (`input_tokens`, `cached_input_tokens`, `output_tokens`), or
 * `turn.failed`.
 *
 * A top-level `error` is a model call that failed: "Reconnecting... n/m (…)" while Codex retries
 * it (a `retry`, the run may well succeed), otherwise the error it gave up on (an `api_error`,
 * before its `turn.failed`). Codex has no closing message of its own: the final message is its
 * last `agent_message`. Subagents' own items are not in this stream, only the calls to them.
 * @module
 */
import { OUTPUT_CHUNK_MAX_BYTES, type AgentEvent } from "#api/index.js";
import { noticeEvent, retryEvent, textEvents, thinkingEvent, toolResultEvent, toolUseEvent } from "../agent-events.js";
import type { OutputParser } from "../cli-adapter.js";
import { createJsonLinesParser, isRecord } from "../json-lines-parser.js";
import { truncateUtf8 } from "../../output/utf8-text.js";

/** "Reconnecting... 2/5 (unexpected status 500 …)": Codex retrying a model call. */
const RECONNECTING = /^Reconnecting\.\.\.\s*(\d+)\/(\d+)\s*(?:\((.*)\))?/s;
/** How Codex names the HTTP status of a failed call: "unexpected status 401 Unauthorized: …". */
const HTTP_STATUS = /\bstatus (\d{3})\b/;

/**
 * @example
 * const parser = createCodexJsonParser();
 * batcher.pushEvents(parser.push(chunk));
 */
export function createCodexJsonParser(options: { lineMaxBytes?: number } = {}): OutputParser {
  let lastMessage: string | null = null;
  /** Items whose `tool_use` was sent (at `item.started`), so `item.completed` adds only the result. */
  const started = new Set<string>();

  function eventsFrom(json: unknown): AgentEvent[] {
    if (!isRecord(json)) return [];
    switch (json.type) {
      case "thread.started":
        return [{ type: "agent", kind: "init" }];
      case "item.started":
      case "item.updated":
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
      case "error":
        return [modelCallError(errorMessage(json))];
      default:
        return [];
    }
  }

  function itemEvents(item: Record<string, unknown>, completed: boolean): AgentEvent[] {
    const id = typeof item.id === "string" ? item.id : undefined;
    /** The call once (at its first sight), then its result when the item completes. */
    const call = (tool: string, input: unknown, result: () => AgentEvent[]): AgentEvent[] => {
      const events: AgentEvent[] = [];
      if (id === undefined || !started.has(id)) events.push(toolUseEvent(tool, input, { id }));
      if (id !== undefined) started.add(id);
      if (completed) events.push(...result());
      return events;
    };
    switch (item.type) {
      case "agent_message": {
        if (!completed || typeof item.text !== "string" || item.text.length === 0) return [];
        lastMessage = item.text;
        return textEvents(item.text);
      }
      case "reasoning": {
        const thinking = completed && typeof item.text === "string" ? thinkingEvent(item.text) : null;
        return thinking ? [thinking] : [];
      }
      case "command_execution":
        return call("shell", { command: item.command }, () => {
          const output = typeof item.aggregated_output === "string" ? item.aggregated_output : "";
          if (item.status === "declined")
            return [noticeEvent("permission_denied", output || "command declined", { tool: "shell", id }), toolResultEvent(output, true, { id })];
          return [toolResultEvent(output, item.status === "failed" || (typeof item.exit_code === "number" && item.exit_code !== 0), { id })];
        });
      case "file_change":
        return call("apply_patch", { changes: item.changes }, () => [toolResultEvent(changeList(item.changes), item.status === "failed", { id })]);
      case "mcp_tool_call": {
        const name = [item.server, item.tool].filter((part) => typeof part === "string").join(".") || "mcp";
        return call(name, item.arguments, () => {
          const error = isRecord(item.error) && typeof item.error.message === "string" ? item.error.message : null;
          return [toolResultEvent(error ?? mcpResultText(item.result), item.status === "failed" || error !== null, { id })];
        });
      }
      case "collab_tool_call":
        return call(typeof item.tool === "string" ? item.tool : "agent", { prompt: item.prompt, agents: item.receiver_thread_ids }, () => [
          toolResultEvent(agentStates(item.agents_states), item.status === "failed", { id }),
        ]);
      case "web_search":
        return call("web_search", { query: item.query }, () => []);
      case "error":
        return completed && typeof item.message === "string" ? [noticeEvent("warning", item.message)] : [];
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

/** A top-level `error`: a retry while Codex reconnects, else the API error it gave up on. */
function modelCallError(message: string): AgentEvent {
  const retry = RECONNECTING.exec(message);
  const detail = retry ? (retry[3] ?? message) : message;
  const status = HTTP_STATUS.exec(detail)?.[1];
  if (retry) return retryEvent({ attempt: Number(retry[1]), maxAttempts: Number(retry[2]), status: status && Number(status), text: detail });
  return noticeEvent("api_error", message, { status: status && Number(status) });
}

/** The text parts of an MCP tool's result (`content` blocks), other parts by their type. */
function mcpResultText(result: unknown): string {
  if (!isRecord(result) || !Array.isArray(result.content)) return "";
  return result.content
    .filter(isRecord)
    .map((part) => (typeof part.text === "string" ? part.text : `[${String(part.type)}]`))
    .join("\n");
}

/** A file change's files, one "kind path" a line. */
function changeList(changes: unknown): string {
  if (!Array.isArray(changes)) return "";
  return changes
    .filter(isRecord)
    .map((change) => `${String(change.kind)} ${String(change.path)}`)
    .join("\n");
}

/** What each subagent a collab call touched last said: "thread: status: message". */
function agentStates(states: unknown): string {
  if (!isRecord(states)) return "";
  return Object.entries(states)
    .filter((entry): entry is [string, Record<string, unknown>] => isRecord(entry[1]))
    .map(([thread, state]) => [thread, state.status, state.message].filter((part) => typeof part === "string" && part.length > 0).join(": "))
    .join("\n");
}

function errorMessage(value: unknown): string {
  if (isRecord(value) && typeof value.message === "string") return value.message;
  return "codex reported an error";
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}
