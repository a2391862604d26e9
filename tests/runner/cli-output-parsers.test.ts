// Unit: the JSON-lines parsers of Codex, Gemini CLI and opencode on hand-made lines (failure
// shapes, output cut at every byte) and on output of the real Codex and Gemini CLI captured in
// fixtures/codex-0.171.0, fixtures/gemini-cli-0.61.0 and fixtures/opencode-1.18.33 (by
// codex-capture.ts, gemini-capture.ts and opencode-capture.ts); Aider's plain-text usage reports.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { AgentEvent } from "#api/index.js";
import type { OutputParser } from "../../runner/src/cli/cli-adapter.js";
import { createAiderReportParser } from "../../runner/src/cli/aider/aider-report-parser.js";
import { createCodexJsonParser } from "../../runner/src/cli/codex/codex-json-parser.js";
import { createGeminiStreamParser } from "../../runner/src/cli/gemini/gemini-stream-parser.js";
import { createOpencodeJsonParser } from "../../runner/src/cli/opencode/opencode-json-parser.js";
import { CODEX_FIXTURES, CODEX_VERSION } from "./codex-capture.js";
import { GEMINI_FIXTURES, GEMINI_VERSION } from "./gemini-capture.js";
import { OPENCODE_FIXTURES, OPENCODE_VERSION } from "./opencode-capture.js";

function feed(parser: OutputParser, lines: unknown[], cut?: number): AgentEvent[] {
  const bytes = Buffer.from(`${lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n")}\n`);
  const pieces = cut === undefined ? [bytes] : [bytes.subarray(0, cut), bytes.subarray(cut)];
  return [...pieces.flatMap((p) => parser.push(p)), ...parser.end()];
}

describe("codex exec --json", () => {
  const lines = [
    { type: "thread.started", thread_id: "t" },
    "not json at all",
    { type: "item.started", item: { id: "1", type: "command_execution", command: "npm test", status: "in_progress" } },
    {
      type: "item.completed",
      item: { id: "1", type: "command_execution", command: "npm test", aggregated_output: "1 failing\n", exit_code: 1, status: "failed" },
    },
    { type: "item.completed", item: { id: "2", type: "reasoning", text: "hmm" } },
    { type: "item.completed", item: { id: "3", type: "agent_message", text: "Tests fail — ünïcode" } },
    { type: "turn.failed", error: { message: "stream disconnected" } },
  ];
  const expected: AgentEvent[] = [
    { type: "agent", kind: "init" },
    { type: "agent", kind: "tool_use", tool: "shell", input: '{"command":"npm test"}', id: "1" },
    { type: "agent", kind: "tool_result", text: "1 failing\n", is_error: true, id: "1" },
    { type: "agent", kind: "thinking", text: "hmm" },
    { type: "agent", kind: "text", text: "Tests fail — ünïcode" },
    { type: "agent", kind: "result", is_error: true, text: "stream disconnected" },
  ];
  it("maps commands linked by id, reasoning, messages and a failed turn, skipping non-JSON lines", () => {
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
    const events = feed(parser, [
      { type: "item.completed", item: { type: "agent_message", text: "All done" } },
      { type: "turn.completed", usage: { input_tokens: 5, output_tokens: 2 } },
    ]);
    expect(events.at(-1)).toEqual({ type: "agent", kind: "result", is_error: false, text: "All done", input_tokens: 5, output_tokens: 2 });
    expect(parser.finalMessage).toBe("All done");
  });
  it("reports a declined command as refused, a warning item as a warning, an MCP call and a subagent call with their results", () => {
    // Hand-written from codex-rs exec_events.rs: the fake API cannot make Codex decline a
    // command, warn, or call an MCP server or a subagent.
    const events = feed(createCodexJsonParser(), [
      {
        type: "item.completed",
        item: { id: "item_0", type: "command_execution", command: "git push", aggregated_output: "", exit_code: null, status: "declined" },
      },
      { type: "item.completed", item: { id: "item_1", type: "error", message: "model rerouted: gpt-5 -> gpt-5-mini (HighRiskCyberActivity)" } },
      { type: "item.started", item: { id: "item_2", type: "mcp_tool_call", server: "docs", tool: "search", arguments: { q: "zod" }, status: "in_progress" } },
      {
        type: "item.completed",
        item: {
          id: "item_2",
          type: "mcp_tool_call",
          server: "docs",
          tool: "search",
          arguments: { q: "zod" },
          result: { content: [{ type: "text", text: "3 hits" }] },
          status: "completed",
        },
      },
      {
        type: "item.started",
        item: {
          id: "item_3",
          type: "collab_tool_call",
          tool: "spawn_agent",
          prompt: "review",
          receiver_thread_ids: ["th_2"],
          agents_states: {},
          status: "in_progress",
        },
      },
      {
        type: "item.completed",
        item: {
          id: "item_3",
          type: "collab_tool_call",
          tool: "spawn_agent",
          prompt: "review",
          receiver_thread_ids: ["th_2"],
          agents_states: { th_2: { status: "completed", message: "LGTM" } },
          status: "completed",
        },
      },
    ]);
    expect(events).toEqual([
      { type: "agent", kind: "tool_use", tool: "shell", input: '{"command":"git push"}', id: "item_0" },
      { type: "agent", kind: "permission_denied", tool: "shell", text: "command declined", id: "item_0" },
      { type: "agent", kind: "tool_result", text: "", is_error: true, id: "item_0" },
      { type: "agent", kind: "warning", text: "model rerouted: gpt-5 -> gpt-5-mini (HighRiskCyberActivity)" },
      { type: "agent", kind: "tool_use", tool: "docs.search", input: '{"q":"zod"}', id: "item_2" },
      { type: "agent", kind: "tool_result", text: "3 hits", id: "item_2" },
      { type: "agent", kind: "tool_use", tool: "spawn_agent", input: '{"prompt":"review","agents":["th_2"]}', id: "item_3" },
      { type: "agent", kind: "tool_result", text: "th_2: completed: LGTM", id: "item_3" },
    ]);
  });
});

describe(`the real Codex ${CODEX_VERSION}, captured`, () => {
  const parse = (name: string) => {
    const parser = createCodexJsonParser();
    const events = [...parser.push(readFileSync(path.join(CODEX_FIXTURES, `${name}.jsonl`))), ...parser.end()];
    for (const event of events) expect(AgentEvent.safeParse(event).success).toBe(true);
    return { parser, events };
  };

  it("a dropped stream Codex reconnects after is a retry, not an error, in a run that succeeds; reasoning is thinking", () => {
    const { parser, events } = parse("reconnect-reasoning");
    expect(events.map((e) => e.kind)).toEqual(["init", "tool_use", "tool_result", "retry", "thinking", "text", "result"]);
    expect(events.some((e) => e.is_error)).toBe(false);
    expect(events[3]).toMatchObject({ kind: "retry", attempt: 1, max_attempts: 5, text: expect.stringContaining("stream disconnected before completion") });
    expect(events[4]).toEqual({ type: "agent", kind: "thinking", text: "**Reading the file**\n\nThe command printed hello, so I can answer." });
    expect(events[2]).toMatchObject({ id: events[1]!.id, text: "hello\n" });
    expect(parser.finalMessage).toBe("The file says hello.");
    expect(parser.usage).toEqual({ input_tokens: 240, output_tokens: 60, cache_read_input_tokens: 80, cache_creation_input_tokens: null });
  });

  it("a bad key: five retries with the HTTP status, then the API error Codex gave up on and a failed result", () => {
    const { parser, events } = parse("api-error-401");
    expect(events.map((e) => e.kind)).toEqual(["init", "retry", "retry", "retry", "retry", "retry", "api_error", "result"]);
    expect(events.filter((e) => e.kind === "retry").map((e) => [e.attempt, e.max_attempts, e.status])).toEqual([1, 2, 3, 4, 5].map((n) => [n, 5, 401]));
    expect(events[6]).toMatchObject({ kind: "api_error", status: 401, text: expect.stringContaining("Incorrect API key provided") });
    expect(events[7]).toMatchObject({ kind: "result", is_error: true });
    expect(parser.finalMessage).toContain("Incorrect API key provided");
  });

  it("a request the API refuses outright: an API error and a failed result", () => {
    const { events } = parse("api-error");
    expect(events).toEqual([
      { type: "agent", kind: "init" },
      { type: "agent", kind: "api_error", text: "The model `gpt-none` does not exist" },
      { type: "agent", kind: "result", is_error: true, text: "The model `gpt-none` does not exist" },
    ]);
  });
});

describe("gemini stream-json", () => {
  it("maps a failed tool linked by id, a warning, an error and an unsuccessful result", () => {
    const parser = createGeminiStreamParser();
    const events = feed(parser, [
      { type: "init", session_id: "s", model: "gemini-2.5-pro" },
      { type: "message", role: "user", content: "the prompt" },
      { type: "tool_use", tool_name: "run_shell_command", tool_id: "t1", parameters: { command: "ls" } },
      { type: "tool_result", tool_id: "t1", status: "error", error: { type: "x", message: "denied" } },
      { type: "error", severity: "warning", message: "Loop detected, stopping execution" },
      { type: "error", severity: "error", message: "Invalid stream: The model returned an empty response or malformed tool call." },
      { type: "message", role: "assistant", content: "Could not ", delta: true },
      { type: "message", role: "assistant", content: "finish.", delta: true },
      { type: "result", status: "error", stats: { input_tokens: 3, output_tokens: 4 } },
    ]);
    expect(events).toEqual([
      { type: "agent", kind: "init", model: "gemini-2.5-pro" },
      { type: "agent", kind: "tool_use", tool: "run_shell_command", input: '{"command":"ls"}', id: "t1" },
      { type: "agent", kind: "tool_result", text: "denied", is_error: true, id: "t1" },
      { type: "agent", kind: "warning", text: "Loop detected, stopping execution" },
      { type: "agent", kind: "api_error", text: "Invalid stream: The model returned an empty response or malformed tool call." },
      { type: "agent", kind: "text", text: "Could not " },
      { type: "agent", kind: "text", text: "finish." },
      { type: "agent", kind: "result", is_error: true, text: "Could not finish.", input_tokens: 3, output_tokens: 4 },
    ]);
    expect(parser.finalMessage).toBe("Could not finish.");
  });

  it("keeps a fatal error that is not the API's as the failed result's text, without an api_error", () => {
    const parser = createGeminiStreamParser();
    const events = feed(parser, [{ type: "result", status: "error", error: { type: "FatalCancellationError", message: "Operation cancelled." }, stats: {} }]);
    expect(events).toEqual([{ type: "agent", kind: "result", is_error: true, text: "Operation cancelled." }]);
    expect(parser.finalMessage).toBe("Operation cancelled.");
  });
});

describe(`the real Gemini CLI ${GEMINI_VERSION}, captured`, () => {
  const parse = (name: string) => {
    const parser = createGeminiStreamParser();
    const events = [...parser.push(readFileSync(path.join(GEMINI_FIXTURES, `${name}.jsonl`))), ...parser.end()];
    for (const event of events) expect(AgentEvent.safeParse(event).success).toBe(true);
    return { parser, events };
  };

  it("a streamed answer: its pieces are the final message", () => {
    const { parser, events } = parse("answer");
    expect(events.map((e) => e.kind)).toEqual(["init", "text", "text", "text", "result"]);
    expect(parser.finalMessage).toBe("Hello.");
    expect(parser.usage).toEqual({ input_tokens: 2_400, output_tokens: 80, cache_read_input_tokens: null, cache_creation_input_tokens: null });
  });

  it("a fatal API error: its message and status are kept, as an api_error and as the failed result", () => {
    const { parser, events } = parse("api-error-400");
    expect(events).toEqual([
      { type: "agent", kind: "init", model: "gemini-2.5-flash" },
      { type: "agent", kind: "api_error", status: 400, text: "API key not valid. Please pass a valid API key." },
      { type: "agent", kind: "result", is_error: true, text: "API key not valid. Please pass a valid API key.", input_tokens: 0, output_tokens: 0 },
    ]);
    expect(parser.finalMessage).toBe("API key not valid. Please pass a valid API key.");
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

describe("opencode --format json, other shapes", () => {
  it("shows reasoning as thinking, a call a rule prevents as refused, and closes nothing when no step began", () => {
    // Hand-written from opencode's run.ts and its permission errors: reasoning is printed only
    // with --thinking, which the adapter does not pass, and a rule needs a settings file.
    const rule = "The user has specified a rule which prevents you from using this specific tool call. Here are some of the relevant rules []";
    expect(
      feed(createOpencodeJsonParser(), [
        { type: "reasoning", part: { text: "Check the build first." } },
        { type: "tool_use", part: { tool: "bash", callID: "c1", state: { status: "error", input: { command: "make" }, error: rule } } },
      ]),
    ).toEqual([
      { type: "agent", kind: "thinking", text: "Check the build first." },
      { type: "agent", kind: "tool_use", tool: "bash", input: '{"command":"make"}', id: "c1" },
      { type: "agent", kind: "permission_denied", tool: "bash", text: rule, id: "c1" },
      { type: "agent", kind: "tool_result", text: rule, is_error: true, id: "c1" },
    ]);
  });
});

describe(`the real opencode ${OPENCODE_VERSION}, captured`, () => {
  const parse = (name: string) => {
    const parser = createOpencodeJsonParser();
    const events = [...parser.push(readFileSync(path.join(OPENCODE_FIXTURES, `${name}.jsonl`))), ...parser.end()];
    for (const event of events) expect(AgentEvent.safeParse(event).success).toBe(true);
    return { parser, events };
  };

  it("without --auto: the refused call is a permission_denied, and the run that stopped there still gets a failed result with its cost", () => {
    const { parser, events } = parse("permission-rejected");
    const refusal = "The user rejected permission to use this specific tool call.";
    expect(events).toEqual([
      { type: "agent", kind: "init" },
      { type: "agent", kind: "tool_use", tool: "read", input: '{"filePath":"/etc/hostname"}', id: "toolu_1" },
      { type: "agent", kind: "permission_denied", tool: "read", text: refusal, id: "toolu_1" },
      { type: "agent", kind: "tool_result", text: refusal, is_error: true, id: "toolu_1" },
      {
        type: "agent",
        kind: "result",
        is_error: true,
        text: `opencode refused read: ${refusal}`,
        cost_usd: 0.0006,
        input_tokens: 100,
        output_tokens: 20,
        cache_read_input_tokens: 0,
        cache_creation_input_tokens: 0,
      },
    ]);
    expect(parser.finalMessage).toBe(`opencode refused read: ${refusal}`);
    expect(parser.costUsd).toBe(0.0006);
  });

  it("with --auto: the call and its result linked by id, the answer, and cost summed over both steps", () => {
    const { parser, events } = parse("auto-approved");
    expect(events.map((e) => e.kind)).toEqual(["init", "tool_use", "tool_result", "text", "result"]);
    expect(events[2]).toEqual({ type: "agent", kind: "tool_result", text: "hello\n", id: "toolu_1" });
    expect(parser.finalMessage).toBe("The file says hello.");
    expect(parser.costUsd).toBe(0.0012);
    expect(parser.usage).toEqual({ input_tokens: 200, output_tokens: 40, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
  });

  it("an API error: api_error with its status, and a failed result", () => {
    const { events } = parse("api-error-401");
    expect(events).toEqual([
      { type: "agent", kind: "api_error", status: 401, text: "invalid x-api-key" },
      { type: "agent", kind: "result", is_error: true, text: "invalid x-api-key" },
    ]);
  });
});

describe("malformed lines", () => {
  // Every shape a line could take with the wrong types in it, for every known event type.
  const types = [
    "thread.started",
    "item.started",
    "item.updated",
    "item.completed",
    "turn.completed",
    "turn.failed",
    "error",
    "init",
    "message",
    "tool_use",
    "tool_result",
    "result",
    "step_start",
    "step_finish",
    "text",
    "reasoning",
  ];
  const odd = [
    null,
    7,
    "x",
    [],
    {},
    { message: 5, data: [] },
    { type: "error" },
    { type: "command_execution", id: {}, status: 3 },
    { type: "collab_tool_call", agents_states: [1], changes: "no" },
  ];
  const lines = types.flatMap((type) =>
    odd.flatMap((value) => [{ type, item: value, error: value, part: value, usage: value, stats: value, message: value, content: value, severity: value }]),
  );

  for (const [name, create] of [
    ["codex", createCodexJsonParser],
    ["gemini", createGeminiStreamParser],
    ["opencode", createOpencodeJsonParser],
  ] as const) {
    it(`${name}: never throws, and every event it makes is valid`, () => {
      const parser = create();
      const events = feed(parser, [...lines, "{not json", "[1,2]", '{"type":"result"']);
      for (const event of events) expect(AgentEvent.safeParse(event).success).toBe(true);
    });
  }
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
