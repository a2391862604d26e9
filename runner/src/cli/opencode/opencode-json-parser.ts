/**
 * opencode's `opencode run --format json` events as `AgentEvent`s.
 *
 * One JSON object per line, `{type, timestamp, sessionID, part | error}` (from opencode's
 * `cli/cmd/run.ts`, as opencode 1.18.33 prints them): `step_start`, `text` (`part.text`, once
 * the text part is complete), `reasoning` (`part.text`, with `--thinking`), `tool_use` (when the
 * tool finished: `part.tool`, `part.callID`, `part.state.status` completed or error,
 * `part.state.input`, `part.state.output`, `part.state.error`), `step_finish` (`part.reason`,
 * `part.cost`, `part.tokens.input/output/cache.read/cache.write`) and `error` (`error.name`,
 * `error.data.message`, and for an `APIError` `error.data.statusCode`). Only the main session's
 * parts are printed: a subagent's (the `task` tool's) are not.
 *
 * A step that finishes for any reason but `tool-calls` ends the run: that is where the
 * `result` event (with cost and tokens summed over the steps) comes from. A tool call opencode
 * refused (its error says the user rejected permission, or a rule prevents it — what `run`
 * answers to every permission request without `--auto`) is also a `permission_denied`; the run
 * then stops after that step, with no closing step, so when the output ends without one the
 * parser closes the run itself: a failed `result` with what the steps cost.
 * @module
 */
import { OUTPUT_CHUNK_MAX_BYTES, type AgentEvent } from "#api/index.js";
import { noticeEvent, textEvents, thinkingEvent, toolResultEvent, toolUseEvent } from "../agent-events.js";
import type { OutputParser } from "../cli-adapter.js";
import { createJsonLinesParser, isRecord } from "../json-lines-parser.js";
import { truncateUtf8 } from "../../output/utf8-text.js";

/** How opencode's permission errors read (its TUI tells them from other tool errors the same way). */
const PERMISSION_REFUSED = /rejected permission|specified a rule which prevents/;

/**
 * @example
 * const parser = createOpencodeJsonParser();
 * batcher.pushEvents(parser.push(chunk));
 */
export function createOpencodeJsonParser(options: { lineMaxBytes?: number } = {}): OutputParser {
  let started = false;
  let closed = false;
  let lastText: string | null = null;
  /** The last tool call opencode refused, for a run that stops on it. */
  let refused: string | null = null;
  const spent = { cost: 0, input: 0, output: 0, cacheRead: 0, cacheWrite: 0, sawCache: false };

  /** The run's result: what the steps cost, and the closing text. */
  function result(isError: boolean, text: string | null): AgentEvent {
    return {
      type: "agent",
      kind: "result",
      is_error: isError,
      ...(text !== null ? { text: truncateUtf8(text, OUTPUT_CHUNK_MAX_BYTES) } : {}),
      cost_usd: spent.cost,
      input_tokens: spent.input,
      output_tokens: spent.output,
      ...(spent.sawCache ? { cache_read_input_tokens: spent.cacheRead, cache_creation_input_tokens: spent.cacheWrite } : {}),
    };
  }

  function toolEvents(part: Record<string, unknown>): AgentEvent[] {
    const state = isRecord(part.state) ? part.state : {};
    const tool = typeof part.tool === "string" ? part.tool : "tool";
    const link = { id: part.callID };
    const failed = state.status === "error";
    const output = failed ? state.error : state.output;
    const text = typeof output === "string" ? output : "";
    const events = [toolUseEvent(tool, state.input, link)];
    if (failed && PERMISSION_REFUSED.test(text)) {
      refused = `opencode refused ${tool}: ${text}`;
      events.push(noticeEvent("permission_denied", text, { tool, ...link }));
    }
    events.push(toolResultEvent(text, failed, link));
    return events;
  }

  function stepFinished(part: Record<string, unknown>): AgentEvent[] {
    const tokens = isRecord(part.tokens) ? part.tokens : {};
    const cache = isRecord(tokens.cache) ? tokens.cache : {};
    if (isAmount(part.cost)) spent.cost += part.cost;
    if (isAmount(tokens.input)) spent.input += Math.round(tokens.input);
    if (isAmount(tokens.output)) spent.output += Math.round(tokens.output);
    if (isRecord(tokens.cache)) spent.sawCache = true;
    if (isAmount(cache.read)) spent.cacheRead += Math.round(cache.read);
    if (isAmount(cache.write)) spent.cacheWrite += Math.round(cache.write);
    if (part.reason === "tool-calls") return [];
    closed = true;
    return [result(false, lastText)];
  }

  function eventsFrom(json: unknown): AgentEvent[] {
    if (!isRecord(json)) return [];
    const part = isRecord(json.part) ? json.part : {};
    switch (json.type) {
      case "step_start":
        if (started) return [];
        started = true;
        return [{ type: "agent", kind: "init" }];
      case "text":
        if (typeof part.text !== "string" || part.text.length === 0) return [];
        lastText = part.text;
        return textEvents(part.text);
      case "reasoning": {
        const thinking = typeof part.text === "string" ? thinkingEvent(part.text) : null;
        return thinking ? [thinking] : [];
      }
      case "tool_use":
        return toolEvents(part);
      case "step_finish":
        return stepFinished(part);
      case "error": {
        const error = isRecord(json.error) ? json.error : {};
        const data = isRecord(error.data) ? error.data : {};
        const message = typeof data.message === "string" ? data.message : typeof error.name === "string" ? error.name : "opencode reported an error";
        closed = true;
        const failed: AgentEvent = { type: "agent", kind: "result", is_error: true, text: truncateUtf8(message, OUTPUT_CHUNK_MAX_BYTES) };
        return error.name === "APIError" ? [noticeEvent("api_error", message, { status: data.statusCode }), failed] : [failed];
      }
      default:
        return [];
    }
  }

  // A run that stopped after its steps without a closing one (a refused permission, a kill).
  const atEnd = (): AgentEvent[] => (started && !closed ? [result(true, refused ?? lastText ?? "opencode stopped before finishing its last step")] : []);
  return createJsonLinesParser(eventsFrom, { ...options, atEnd });
}

function isAmount(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}
