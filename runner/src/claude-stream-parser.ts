/**
 * Incremental parser of Claude Code's `--output-format stream-json` into `AgentEvent`s.
 *
 * CLI output arrives in arbitrary pieces: a read may end mid-line or inside a multi-byte
 * character. Lines are split on the newline byte (which never occurs inside a UTF-8
 * sequence) and only complete lines are decoded, so both cases come out right. The partial
 * line is bounded: a line longer than `lineMaxBytes` is dropped up to its newline rather than
 * buffered without limit. Lines that are not JSON, or not a shape this parser knows, are
 * skipped — the raw output is streamed separately, so nothing is lost to the user.
 * @module
 */
import { OUTPUT_CHUNK_MAX_BYTES, type AgentEvent } from "../../api/index.js";
import type { OutputParser } from "./cli/cli-adapter.js";
import { splitUtf8, truncateUtf8 } from "./utf8-text.js";

/** Long enough for big tool results (file contents), bounded so one runaway line cannot hog memory. */
export const LINE_MAX_BYTES_DEFAULT = 4 * 1_048_576;

/**
 * @example
 * const parser = createClaudeStreamParser();
 * child.stdout.on("data", (chunk) => batcher.pushEvents(parser.push(chunk)));
 */
export function createClaudeStreamParser(options: { lineMaxBytes?: number } = {}): OutputParser {
  const lineMaxBytes = options.lineMaxBytes ?? LINE_MAX_BYTES_DEFAULT;
  const decoder = new TextDecoder();
  let partial: Uint8Array[] = [];
  let partialBytes = 0;
  let discarding = false;
  let finalMessage: string | null = null;

  function takeLine(tail: Uint8Array): string | null {
    if (discarding) {
      discarding = false;
      return null;
    }
    const bytes = partial.length === 0 ? tail : concat([...partial, tail], partialBytes + tail.length);
    partial = [];
    partialBytes = 0;
    return decoder.decode(bytes);
  }

  function parseLine(line: string, out: AgentEvent[]) {
    const trimmed = line.trim();
    if (!trimmed.startsWith("{")) return;
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      return; // not stream-json: raw output still carries it
    }
    for (const event of eventsFromMessage(json)) {
      if (event.kind === "result" && event.text !== undefined) finalMessage = event.text;
      out.push(event);
    }
  }

  return {
    push(chunk) {
      const out: AgentEvent[] = [];
      let start = 0;
      for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
        const line = takeLine(chunk.subarray(start, nl));
        if (line !== null) parseLine(line, out);
        start = nl + 1;
      }
      if (start < chunk.length && !discarding) {
        const rest = chunk.subarray(start);
        if (partialBytes + rest.length > lineMaxBytes) {
          partial = [];
          partialBytes = 0;
          discarding = true;
        } else {
          // Copy: the caller may reuse its buffer.
          partial.push(rest.slice());
          partialBytes += rest.length;
        }
      }
      return out;
    },
    end() {
      const out: AgentEvent[] = [];
      const line = takeLine(new Uint8Array(0));
      if (line) parseLine(line, out);
      return out;
    },
    get finalMessage() {
      return finalMessage;
    },
  };
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCount(value: unknown, integer: boolean): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 && (!integer || Number.isInteger(value));
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
