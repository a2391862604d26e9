// Unit: the parser of `codex exec --json` on hand-made lines (failure shapes, output cut at
// every few bytes) and on output of the real Codex captured in fixtures/codex-0.171.0 (by
// codex-capture.ts).
import { describe, expect, it } from "vitest";
import type { AgentEvent } from "#api/index.js";
import { createCodexJsonParser } from "../../runner/src/cli/codex/codex-json-parser.js";
import { CODEX_FIXTURES, CODEX_VERSION } from "./codex-capture.js";
import { feed, parseCaptured } from "./harness/parser-input.js";

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
  const parse = (name: string) => parseCaptured(createCodexJsonParser(), CODEX_FIXTURES, name);

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
