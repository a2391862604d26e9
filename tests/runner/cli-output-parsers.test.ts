// Unit: the JSON-lines parsers of Codex, Gemini CLI and opencode on their failure shapes, and
// on output cut at every byte (the stand-in CLIs cover the happy paths end to end); Aider's
// plain-text usage reports.
import { describe, expect, it } from "vitest";
import type { AgentEvent } from "../../api/index.js";
import type { OutputParser } from "../../runner/src/cli/cli-adapter.js";
import { createAiderReportParser } from "../../runner/src/aider-report-parser.js";
import { createCodexJsonParser } from "../../runner/src/codex-json-parser.js";
import { createGeminiStreamParser } from "../../runner/src/gemini-stream-parser.js";
import { createOpencodeJsonParser } from "../../runner/src/opencode-json-parser.js";

function feed(parser: OutputParser, lines: unknown[], cut?: number): AgentEvent[] {
  const bytes = Buffer.from(lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n") + "\n");
  const pieces = cut === undefined ? [bytes] : [bytes.subarray(0, cut), bytes.subarray(cut)];
  return [...pieces.flatMap((p) => parser.push(p)), ...parser.end()];
}

describe("codex exec --json", () => {
  const lines = [
    { type: "thread.started", thread_id: "t" },
    "not json at all",
    { type: "item.started", item: { id: "1", type: "command_execution", command: "npm test", status: "in_progress" } },
    { type: "item.completed", item: { id: "1", type: "command_execution", command: "npm test", aggregated_output: "1 failing\n", exit_code: 1, status: "failed" } },
    { type: "item.completed", item: { id: "2", type: "reasoning", text: "hmm" } },
    { type: "item.completed", item: { id: "3", type: "agent_message", text: "Tests fail — ünïcode" } },
    { type: "turn.failed", error: { message: "stream disconnected" } },
  ];
  const expected: AgentEvent[] = [
    { type: "agent", kind: "init" },
    { type: "agent", kind: "tool_use", tool: "shell", input: '{"command":"npm test"}' },
    { type: "agent", kind: "tool_result", text: "1 failing\n", is_error: true },
    { type: "agent", kind: "text", text: "Tests fail — ünïcode" },
    { type: "agent", kind: "result", is_error: true, text: "stream disconnected" },
  ];
  it("maps commands, messages and a failed turn, skipping reasoning and non-JSON lines", () => {
    const parser = createCodexJsonParser();
    expect(feed(parser, lines)).toEqual(expected);
    expect(parser.finalMessage).toBe("stream disconnected");
  });
  it("gives the same events wherever the output is cut", () => {
    const total = Buffer.byteLength(lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n"));
    for (let cut = 0; cut < total; cut += 7) expect(feed(createCodexJsonParser(), lines, cut)).toEqual(expected);
  });
  it("takes the last agent message as the final message of a completed turn", () => {
    const parser = createCodexJsonParser();
    const events = feed(parser, [{ type: "item.completed", item: { type: "agent_message", text: "All done" } }, { type: "turn.completed", usage: { input_tokens: 5, output_tokens: 2 } }]);
    expect(events.at(-1)).toEqual({ type: "agent", kind: "result", is_error: false, text: "All done", input_tokens: 5, output_tokens: 2 });
    expect(parser.finalMessage).toBe("All done");
  });
});

describe("gemini stream-json", () => {
  it("maps a failed tool, an error and an unsuccessful result", () => {
    const parser = createGeminiStreamParser();
    const events = feed(parser, [
      { type: "init", session_id: "s", model: "gemini-2.5-pro" },
      { type: "message", role: "user", content: "the prompt" },
      { type: "tool_use", tool_name: "run_shell_command", tool_id: "t1", parameters: { command: "ls" } },
      { type: "tool_result", tool_id: "t1", status: "error", error: { type: "x", message: "denied" } },
      { type: "error", severity: "warning", message: "quota low" },
      { type: "message", role: "assistant", content: "Could not ", delta: true },
      { type: "message", role: "assistant", content: "finish.", delta: true },
      { type: "result", status: "error", stats: { input_tokens: 3, output_tokens: 4 } },
    ]);
    expect(events).toEqual([
      { type: "agent", kind: "init", model: "gemini-2.5-pro" },
      { type: "agent", kind: "tool_use", tool: "run_shell_command", input: '{"command":"ls"}' },
      { type: "agent", kind: "tool_result", text: "denied", is_error: true },
      { type: "agent", kind: "text", is_error: true, text: "quota low" },
      { type: "agent", kind: "text", text: "Could not " },
      { type: "agent", kind: "text", text: "finish." },
      { type: "agent", kind: "result", is_error: true, text: "Could not finish.", input_tokens: 3, output_tokens: 4 },
    ]);
    expect(parser.finalMessage).toBe("Could not finish.");
  });
});

describe("opencode --format json", () => {
  it("sums cost and tokens over steps, and reports an error event as a failed result", () => {
    const parser = createOpencodeJsonParser();
    const events = feed(parser, [
      { type: "step_start", part: {} },
      { type: "tool_use", part: { tool: "bash", state: { status: "error", input: { command: "make" }, error: "make: not found" } } },
      { type: "step_finish", part: { reason: "tool-calls", cost: 0.5, tokens: { input: 10, output: 1 } } },
      { type: "step_start", part: {} },
      { type: "text", part: { text: "Gave up." } },
      { type: "step_finish", part: { reason: "stop", cost: 0.25, tokens: { input: 5, output: 2 } } },
      { type: "error", error: { name: "ProviderAuthError", data: { message: "bad key" } } },
    ]);
    expect(events).toEqual([
      { type: "agent", kind: "init" },
      { type: "agent", kind: "tool_use", tool: "bash", input: '{"command":"make"}' },
      { type: "agent", kind: "tool_result", text: "make: not found", is_error: true },
      { type: "agent", kind: "text", text: "Gave up." },
      { type: "agent", kind: "result", is_error: false, text: "Gave up.", cost_usd: 0.75, input_tokens: 15, output_tokens: 3 },
      { type: "agent", kind: "result", is_error: true, text: "bad key" },
    ]);
    // The run's spend: a later result without numbers does not erase it.
    expect(parser.costUsd).toBe(0.75);
    expect(parser.usage).toEqual({ input_tokens: 15, output_tokens: 3, cache_read_input_tokens: null, cache_creation_input_tokens: null });
  });
});

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
