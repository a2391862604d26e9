/**
 * Claude Code's `--output-format stream-json --verbose` messages as `AgentEvent`s.
 *
 * One JSON object per line (as Claude Code 2.1.332 prints them): `system` messages (`init` with
 * the model; `api_retry` with `attempt`, `max_retries`, `retry_delay_ms`, `error_status`;
 * `permission_denied` with `tool_name`, `tool_use_id`, `message`; `task_started` and
 * `task_notification`, which tie a subagent's `task_id`/`run_id` to the `tool_use_id` of the
 * call that started it), `assistant` (content blocks `text`, `thinking`, `tool_use`; or, when
 * the model API failed for good, a message flagged `is_api_error_message` with
 * `api_error_status`), `user` (`tool_result` blocks) and a closing `result` with cost and usage.
 * A subagent's messages carry `parent_tool_use_id`, which becomes `parent_id`.
 *
 * Subagents run in the background by default. The CLI then holds the main result back until
 * they end, and when one ends it starts a turn of its own on the notice, with a second `init`
 * and a second `result` (with `origin.kind` `task-notification`). That result gets the
 * subagent's `parent_id`, so the main agent's stays the run's final message, cost and usage;
 * the repeated `init` is dropped. Lines are split and bounded by `json-lines-parser.ts`.
 * @module
 */
import { OUTPUT_CHUNK_MAX_BYTES, type AgentEvent } from "#api/index.js";
import { idOf, noticeEvent, retryEvent, textEvents, thinkingEvent, toolResultEvent, toolUseEvent } from "../agent-events.js";
import type { OutputParser } from "../cli-adapter.js";
import { createJsonLinesParser, isRecord } from "../json-lines-parser.js";
import { truncateUtf8 } from "../../output/utf8-text.js";

/**
 * @example
 * const parser = createClaudeStreamParser();
 * child.stdout.on("data", (chunk) => batcher.pushEvents(parser.push(chunk)));
 */
export function createClaudeStreamParser(options: { lineMaxBytes?: number } = {}): OutputParser {
  let turnLimitReached = false;
  const lines = createJsonLinesParser(createClaudeMessageReader({ onTurnLimit: () => (turnLimitReached = true) }), options);
  return {
    push: (chunk) => lines.push(chunk),
    end: () => lines.end(),
    get finalMessage() {
      return lines.finalMessage;
    },
    get costUsd() {
      return lines.costUsd;
    },
    get usage() {
      return lines.usage;
    },
    get turnLimitReached() {
      return turnLimitReached;
    },
  };
}

/**
 * A reader of one run's stream-json messages: each call gives the events one message stands
 * for (often none). It remembers which tool call started each subagent.
 */
export function createClaudeMessageReader(hooks: { onTurnLimit?: () => void } = {}): (json: unknown) => AgentEvent[] {
  let initSeen = false;
  /** A subagent's `task_id` (its `agent_id`) and `run_id`, to the tool call that started it. */
  const startedBy = new Map<string, string>();

  function system(json: Record<string, unknown>): AgentEvent[] {
    switch (json.subtype) {
      case "init":
        if (initSeen) return []; // a turn the CLI started on a background subagent's notice
        initSeen = true;
        return [{ type: "agent", kind: "init", ...(typeof json.model === "string" ? { model: truncateUtf8(json.model, 200) } : {}) }];
      case "task_started":
      case "task_notification": {
        const toolUseId = idOf(json.tool_use_id);
        for (const key of [json.task_id, json.run_id]) if (toolUseId && typeof key === "string") startedBy.set(key, toolUseId);
        return [];
      }
      case "api_retry":
        return [
          retryEvent({ attempt: json.attempt, maxAttempts: json.max_retries, retryInMs: json.retry_delay_ms, status: json.error_status, text: json.error }),
        ];
      case "permission_denied":
        return [
          noticeEvent("permission_denied", stringOr(json.message, "permission denied"), {
            tool: json.tool_name,
            id: json.tool_use_id,
            parentId: typeof json.agent_id === "string" ? startedBy.get(json.agent_id) : undefined,
          }),
        ];
      case "model_fallback":
        return typeof json.content === "string" ? [noticeEvent("warning", json.content)] : [];
      default:
        return json.level === "warning" && typeof json.content === "string" ? [noticeEvent("warning", json.content)] : [];
    }
  }

  function assistant(json: Record<string, unknown>): AgentEvent[] {
    const parentId = json.parent_tool_use_id;
    const blocks = contentBlocks(json.message);
    if (json.is_api_error_message === true || json.isApiErrorMessage === true) {
      const text = blocks.map((block) => (typeof block.text === "string" ? block.text : "")).join("\n");
      return [noticeEvent("api_error", text || stringOr(json.error, "model API error"), { status: json.api_error_status, parentId })];
    }
    const events: AgentEvent[] = [];
    for (const block of blocks) {
      if (block.type === "text" && typeof block.text === "string") events.push(...textEvents(block.text, { parentId }));
      else if (block.type === "thinking" && typeof block.thinking === "string") {
        const thinking = thinkingEvent(block.thinking, { parentId });
        if (thinking) events.push(thinking);
      } else if (block.type === "tool_use" && typeof block.name === "string") events.push(toolUseEvent(block.name, block.input, { id: block.id, parentId }));
    }
    return events;
  }

  function user(json: Record<string, unknown>): AgentEvent[] {
    return contentBlocks(json.message)
      .filter((block) => block.type === "tool_result")
      .map((block) => toolResultEvent(toolResultText(block.content), block.is_error === true, { id: block.tool_use_id, parentId: json.parent_tool_use_id }));
  }

  function result(json: Record<string, unknown>): AgentEvent[] {
    const usage = isRecord(json.usage) ? json.usage : {};
    const event: AgentEvent = { type: "agent", kind: "result", is_error: json.is_error === true };
    if (typeof json.result === "string") event.text = truncateUtf8(json.result, OUTPUT_CHUNK_MAX_BYTES);
    if (isCount(json.total_cost_usd, false)) event.cost_usd = json.total_cost_usd;
    if (isCount(usage.input_tokens, true)) event.input_tokens = usage.input_tokens;
    if (isCount(usage.output_tokens, true)) event.output_tokens = usage.output_tokens;
    if (isCount(usage.cache_read_input_tokens, true)) event.cache_read_input_tokens = usage.cache_read_input_tokens;
    if (isCount(usage.cache_creation_input_tokens, true)) event.cache_creation_input_tokens = usage.cache_creation_input_tokens;
    // A turn the user did not start (a background subagent's notice): not the main agent's result.
    const origin = isRecord(json.origin) ? json.origin : null;
    if (origin && origin.kind !== "human") {
      const runId = typeof origin.runId === "string" ? origin.runId : undefined;
      event.parent_id = (runId && startedBy.get(runId)) ?? idOf(runId) ?? stringOr(origin.kind, "background");
    }
    // `--max-turns` reached: the main agent stopped there (subtype `error_max_turns`).
    if (event.parent_id === undefined && (json.subtype === "error_max_turns" || json.terminal_reason === "max_turns")) {
      hooks.onTurnLimit?.();
      const reason = Array.isArray(json.errors) && typeof json.errors[0] === "string" ? json.errors[0] : "Reached the maximum number of turns";
      return [event, noticeEvent("warning", reason)];
    }
    return [event];
  }

  return (json) => {
    if (!isRecord(json)) return [];
    switch (json.type) {
      case "system":
        return system(json);
      case "assistant":
        return assistant(json);
      case "user":
        return user(json);
      case "result":
        return result(json);
      default:
        return [];
    }
  };
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

function stringOr(value: unknown, fallback: string): string {
  return typeof value === "string" && value.length > 0 ? value : fallback;
}

function isCount(value: unknown, integer: boolean): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 && (!integer || Number.isInteger(value));
}
