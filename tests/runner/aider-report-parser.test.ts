// Unit: the reader of Aider's plain-text usage reports, which takes the run's cost from the
// session total of the last report, wherever the output is cut.
import { describe, expect, it } from "vitest";
import { createAiderReportParser } from "../../runner/src/cli/aider/aider-report-parser.js";

describe("aider usage reports", () => {
  const costOf = (text: string, cut = text.length) => {
    const parser = createAiderReportParser();
    const bytes = Buffer.from(text);
    expect([...parser.push(bytes.subarray(0, cut)), ...parser.push(bytes.subarray(cut)), ...parser.end()]).toEqual([]);
    return parser.costUsd;
  };

  it("takes the session total of the last report, on the tokens line or a line of its own", () => {
    const run = [
      "Aider v0.86.1",
      "Tokens: 2.1k sent, 120 received. Cost: $0.01 message, $0.01 session.",
      "Applied edit to NOTES.md",
      "Tokens: 3.4k sent, 1.2k cache write, 2.0k cache hit, 200 received.",
      "Cost: $0.0042 message, $0.0142 session.",
      "",
    ].join("\n");
    expect(costOf(run)).toBe(0.0142);
    // Wherever a read ends, and with no newline after the last report.
    for (const cut of [1, run.indexOf("$0.0142") + 3, run.length - 2]) expect(costOf(run, cut)).toBe(0.0142);
    expect(costOf(run.trimEnd())).toBe(0.0142);
  });

  it("is null without a report, and ignores a report quoted inside other text", () => {
    expect(costOf("Aider v0.86.1\nApplied edit to NOTES.md\n")).toBeNull();
    expect(costOf("> the log said Cost: $9.99 message, $9.99 session.\n")).toBeNull();
    expect(costOf("Tokens: 1,234 sent, 56 received. Cost: $0.0012 message, $0.0034 session.\nThe model said: Cost: $5 message, $5 session.\n")).toBe(0.0034);
  });
});
