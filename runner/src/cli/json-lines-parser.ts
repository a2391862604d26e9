/**
 * Incremental reader of a CLI's JSON-lines output (Claude Code's `stream-json`, Codex's
 * `exec --json`, Gemini CLI's `stream-json`, opencode's `--format json`).
 *
 * Complete lines come from `line-splitter.ts` (pieces, multi-byte characters, bounded lines).
 * Lines that are not JSON, or not a shape the CLI's mapping knows, are skipped — the raw output
 * is streamed separately, so nothing is lost to the user; a line never throws. The last `result`
 * event of the main agent (one without `parent_id`) gives the run's final message, and its cost
 * and token counts are the run's (the task result's `cost_usd` and `usage`). A result a CLI
 * writes for a subagent's work (Claude Code's turn on a background subagent's notice) carries
 * the subagent's `parent_id` and is streamed, but does not replace the main agent's.
 * @module
 */
import type { AgentEvent, TokenUsage } from "#api/index.js";
import type { OutputParser } from "./cli-adapter.js";
import { createLineSplitter } from "../output/line-splitter.js";

/**
 * A parser that turns each complete JSON line into the events `eventsFrom` makes of it.
 * @example
 * const parser = createJsonLinesParser((json) => isRecord(json) && json.type === "text" ? [{ type: "agent", kind: "text", text: String(json.text) }] : []);
 */
export function createJsonLinesParser(
  eventsFrom: (json: unknown) => AgentEvent[],
  options: {
    lineMaxBytes?: number;
    /** Events to add when the output ends (a closing result the CLI never wrote), read like the others. */
    atEnd?: () => AgentEvent[];
  } = {},
): OutputParser {
  const lines = createLineSplitter(options);
  let finalMessage: string | null = null;
  let costUsd: number | null = null;
  let usage: TokenUsage | null = null;

  function parseLine(line: string, out: AgentEvent[]) {
    const trimmed = line.trim();
    if (!trimmed.startsWith("{")) return;
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      return; // not stream-json: raw output still carries it
    }
    record(eventsFrom(json), out);
  }

  function record(events: AgentEvent[], out: AgentEvent[]) {
    for (const event of events) {
      if (event.kind === "result" && event.parent_id === undefined) {
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
      for (const line of lines.push(chunk)) parseLine(line, out);
      return out;
    },
    end() {
      const out: AgentEvent[] = [];
      const line = lines.end();
      if (line) parseLine(line, out);
      if (options.atEnd) record(options.atEnd(), out);
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
