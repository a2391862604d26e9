/**
 * Incremental reader of a CLI's JSON-lines output (Claude Code's `stream-json`, Codex's
 * `exec --json`, Gemini CLI's `stream-json`, opencode's `--format json`).
 *
 * CLI output arrives in arbitrary pieces: a read may end mid-line or inside a multi-byte
 * character. Lines are split on the newline byte (which never occurs inside a UTF-8
 * sequence) and only complete lines are decoded, so both cases come out right. The partial
 * line is bounded: a line longer than `lineMaxBytes` is dropped up to its newline rather than
 * buffered without limit. Lines that are not JSON, or not a shape the CLI's mapping knows, are
 * skipped — the raw output is streamed separately, so nothing is lost to the user. The last
 * `result` event's text is the run's final message, and its cost and token counts are the
 * run's (the task result's `cost_usd` and `usage`).
 * @module
 */
import type { AgentEvent, TokenUsage } from "../../api/index.js";
import type { OutputParser } from "./cli/cli-adapter.js";

/** Long enough for big tool results (file contents), bounded so one runaway line cannot hog memory. */
export const LINE_MAX_BYTES_DEFAULT = 4 * 1_048_576;

/**
 * A parser that turns each complete JSON line into the events `eventsFrom` makes of it.
 * @example
 * const parser = createJsonLinesParser((json) => isRecord(json) && json.type === "text" ? [{ type: "agent", kind: "text", text: String(json.text) }] : []);
 */
export function createJsonLinesParser(eventsFrom: (json: unknown) => AgentEvent[], options: { lineMaxBytes?: number } = {}): OutputParser {
  const lineMaxBytes = options.lineMaxBytes ?? LINE_MAX_BYTES_DEFAULT;
  const decoder = new TextDecoder();
  let partial: Uint8Array[] = [];
  let partialBytes = 0;
  let discarding = false;
  let finalMessage: string | null = null;
  let costUsd: number | null = null;
  let usage: TokenUsage | null = null;

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
    for (const event of eventsFrom(json)) {
      if (event.kind === "result") {
        if (event.text !== undefined) finalMessage = event.text;
        if (event.cost_usd !== undefined) costUsd = event.cost_usd;
        usage = usageOf(event) ?? usage;
      }
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
    get costUsd() {
      return costUsd;
    },
    get usage() {
      return usage;
    },
  };
}

/** The token counts of a `result` event, or null when it carries none. */
function usageOf(event: AgentEvent): TokenUsage | null {
  const counts: TokenUsage = {
    input_tokens: event.input_tokens ?? null,
    output_tokens: event.output_tokens ?? null,
    cache_read_input_tokens: event.cache_read_input_tokens ?? null,
    cache_creation_input_tokens: event.cache_creation_input_tokens ?? null,
  };
  return Object.values(counts).some((count) => count !== null) ? counts : null;
}

/** True for a plain JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
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
