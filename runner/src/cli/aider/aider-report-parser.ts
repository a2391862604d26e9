/**
 * Reads what an Aider run cost from its plain-text output.
 *
 * Aider has no structured output; after each model reply it prints a usage report, e.g.
 * `Tokens: 2.1k sent, 120 received. Cost: $0.01 message, $0.03 session.` (the cost part on a
 * line of its own when the report also lists prompt-cache tokens). The session figure is the
 * running total of the whole run, so the last one seen is the run's cost. Token counts are
 * left out: Aider rounds them (`2.1k`), and a result states only what the CLI said exactly.
 * Only a line that starts with the report counts, so a model reply quoting one does not, unless
 * it is the last. The output itself is streamed as it is: this parser makes no events.
 * @module
 */
import type { OutputParser } from "../cli-adapter.js";
import { createLineSplitter } from "../../output/line-splitter.js";

const COST_REPORT = /^(?:Tokens: [^\n]*? received\.\s+)?Cost: \$(\d+(?:\.\d+)?) message, \$(\d+(?:\.\d+)?) session\./;

/**
 * @example
 * const parser = createAiderReportParser();
 * parser.push(Buffer.from("Tokens: 2.1k sent, 120 received. Cost: $0.01 message, $0.01 session.\n"));
 * parser.costUsd; // 0.01
 */
export function createAiderReportParser(): OutputParser {
  const lines = createLineSplitter({ lineMaxBytes: 64 * 1024 });
  let costUsd: number | null = null;
  const read = (line: string) => {
    const match = COST_REPORT.exec(line.trim());
    if (match) costUsd = Number(match[2]);
  };
  return {
    push(chunk) {
      for (const line of lines.push(chunk)) read(line);
      return [];
    },
    end() {
      const line = lines.end();
      if (line) read(line);
      return [];
    },
    finalMessage: null,
    get costUsd() {
      return costUsd;
    },
    usage: null,
  };
}
