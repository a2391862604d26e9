// Unit + integration: the stream-json parser on hand-made lines (split chunks, multi-byte
// characters, oversized lines, malformed shapes), on output of the real Claude Code captured in
// fixtures/claude-code-2.1.332 (by claude-code-capture.ts), and on the real Claude Code run live
// against the fake Anthropic API. The demo CLI's output: demo-cli-output.test.ts.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { AgentEvent, OUTPUT_CHUNK_MAX_BYTES } from "#api/index.js";
import { THINKING_MAX_BYTES } from "../../runner/src/cli/agent-events.js";
import { createClaudeStreamParser } from "../../runner/src/cli/claude/claude-stream-parser.js";
import { CLAUDE_FIXTURES, CLAUDE_SCENARIOS, CLAUDE_VERSION, captureClaudeStream } from "./claude-code-capture.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const line = (json: unknown) => `${JSON.stringify(json)}\n`;

describe("claude stream parser", () => {
  it("maps init, text, tool_use, tool_result and result lines to agent events", () => {
    const parser = createClaudeStreamParser();
    const input =
      line({ type: "system", subtype: "init", model: "claude-x", session_id: "s", tools: [], cwd: "/w" }) +
      line({
        type: "assistant",
        message: {
          role: "assistant",
          content: [
            { type: "text", text: "Hello" },
            { type: "tool_use", id: "t1", name: "Bash", input: { command: "ls" } },
          ],
        },
      }) +
      line({
        type: "user",
        message: { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: [{ type: "text", text: "a.txt" }], is_error: true }] },
      }) +
      line({ type: "result", subtype: "success", is_error: false, result: "Done.", total_cost_usd: 0.25, usage: { input_tokens: 10, output_tokens: 5 } });
    const events = [...parser.push(bytes(input)), ...parser.end()];
    expect(events).toEqual([
      { type: "agent", kind: "init", model: "claude-x" },
      { type: "agent", kind: "text", text: "Hello" },
      { type: "agent", kind: "tool_use", tool: "Bash", input: '{"command":"ls"}', id: "t1" },
      { type: "agent", kind: "tool_result", text: "a.txt", is_error: true, id: "t1" },
      { type: "agent", kind: "result", is_error: false, text: "Done.", cost_usd: 0.25, input_tokens: 10, output_tokens: 5 },
    ]);
    expect(parser.finalMessage).toBe("Done.");
    expect(parser.costUsd).toBe(0.25);
    expect(parser.usage).toEqual({ input_tokens: 10, output_tokens: 5, cache_read_input_tokens: null, cache_creation_input_tokens: null });
  });

  it("reads prompt-cache token counts from the result's usage, and reports no spend before a result", () => {
    const parser = createClaudeStreamParser();
    parser.push(bytes(line({ type: "system", subtype: "init", model: "claude-x" })));
    expect(parser.costUsd).toBeNull();
    expect(parser.usage).toBeNull();
    const [event] = parser.push(
      bytes(
        line({
          type: "result",
          subtype: "success",
          is_error: false,
          result: "ok",
          total_cost_usd: 0.5,
          usage: { input_tokens: 3, cache_creation_input_tokens: 700, cache_read_input_tokens: 9000, output_tokens: 4, service_tier: "standard" },
        }),
      ),
    );
    expect(event).toEqual({
      type: "agent",
      kind: "result",
      is_error: false,
      text: "ok",
      cost_usd: 0.5,
      input_tokens: 3,
      output_tokens: 4,
      cache_read_input_tokens: 9000,
      cache_creation_input_tokens: 700,
    });
    expect(parser.usage).toEqual({ input_tokens: 3, output_tokens: 4, cache_read_input_tokens: 9000, cache_creation_input_tokens: 700 });
    expect(parser.costUsd).toBe(0.5);
  });

  it("gives the same events whether a line arrives whole or one byte at a time, across multi-byte characters", () => {
    const text = line({ type: "assistant", message: { content: [{ type: "text", text: "héllo wörld — 日本語 🎉" }] } });
    const whole = createClaudeStreamParser().push(bytes(text));
    const parser = createClaudeStreamParser();
    const pieces = bytes(text);
    const split = [];
    for (let i = 0; i < pieces.length; i++) split.push(...parser.push(pieces.subarray(i, i + 1)));
    expect(split).toEqual(whole);
    expect(split).toEqual([{ type: "agent", kind: "text", text: "héllo wörld — 日本語 🎉" }]);
  });

  it("parses a last line without a newline at end()", () => {
    const parser = createClaudeStreamParser();
    expect(parser.push(bytes(JSON.stringify({ type: "result", is_error: true, result: "boom" })))).toEqual([]);
    expect(parser.end()).toEqual([{ type: "agent", kind: "result", is_error: true, text: "boom" }]);
  });

  it("skips non-JSON lines and unknown shapes", () => {
    const parser = createClaudeStreamParser();
    const events = parser.push(
      bytes(
        `plain text\n{not json\n${line({ type: "stream_event", x: 1 })}[1,2]\n${line({ type: "assistant", message: { content: [{ type: "text", text: "ok" }] } })}`,
      ),
    );
    expect(events).toEqual([{ type: "agent", kind: "text", text: "ok" }]);
  });

  it("drops a line longer than its cap without buffering it, and recovers on the next line", () => {
    const parser = createClaudeStreamParser({ lineMaxBytes: 1_000 });
    const huge = line({ type: "assistant", message: { content: [{ type: "text", text: "x".repeat(5_000) }] } });
    const events = [];
    for (let i = 0; i < huge.length; i += 300) events.push(...parser.push(bytes(huge.slice(i, i + 300))));
    events.push(...parser.push(bytes(line({ type: "assistant", message: { content: [{ type: "text", text: "after" }] } }))));
    expect(events).toEqual([{ type: "agent", kind: "text", text: "after" }]);
  });

  it("keeps every event within the contract's limits: long text is split, tool input cut", () => {
    const parser = createClaudeStreamParser();
    const longText = "é".repeat(OUTPUT_CHUNK_MAX_BYTES); // 2 bytes each: two chunks
    const events = parser.push(
      bytes(
        line({
          type: "assistant",
          message: {
            content: [
              { type: "text", text: longText },
              { type: "tool_use", name: "Write", input: { content: "y".repeat(40_000) } },
            ],
          },
        }),
      ),
    );
    for (const event of events) expect(AgentEvent.safeParse(event).success).toBe(true);
    const texts = events.filter((e) => e.kind === "text").map((e) => e.text);
    expect(texts.join("")).toBe(longText);
    expect(texts.length).toBe(2);
    const toolUse = events.find((e) => e.kind === "tool_use")!;
    expect(Buffer.byteLength(toolUse.input!)).toBeLessThanOrEqual(OUTPUT_CHUNK_MAX_BYTES);
    expect(toolUse.input).toMatch(/truncated\]$/);
  });
});

describe("malformed and older shapes", () => {
  it("never throws on wrong types, and keeps what it can", () => {
    const parser = createClaudeStreamParser();
    const events = parser.push(
      bytes(
        [
          { type: "assistant", message: { content: "not blocks" } },
          {
            type: "assistant",
            message: { content: [null, 5, { type: "tool_use", name: 7 }, { type: "thinking", thinking: 3 }, { type: "text", text: "kept" }] },
            parent_tool_use_id: 9,
          },
          { type: "user", message: { content: [{ type: "tool_result", tool_use_id: "x".repeat(500), content: { odd: true } }] } },
          { type: "system", subtype: "api_retry", attempt: "one", max_retries: -1, retry_delay_ms: "soon", error_status: 99_999 },
          { type: "system", subtype: "permission_denied" },
          { type: "result", origin: 5, total_cost_usd: -1, usage: "none" },
          { type: "system", subtype: "task_started", task_id: {}, tool_use_id: [] },
        ]
          .map(line)
          .join(""),
      ),
    );
    for (const event of events) expect(AgentEvent.safeParse(event).success).toBe(true);
    expect(events).toEqual([
      { type: "agent", kind: "text", text: "kept" },
      { type: "agent", kind: "tool_result", text: '{"odd":true}' },
      { type: "agent", kind: "retry" },
      { type: "agent", kind: "permission_denied", text: "permission denied" },
      { type: "agent", kind: "result", is_error: false },
    ]);
    expect(parser.finalMessage).toBeNull();
  });

  it("cuts a long thinking block to a summary, and reads an API error flagged the older way (isApiErrorMessage)", () => {
    // Hand-written: the camelCase flag is how earlier Claude Code versions marked the message.
    const parser = createClaudeStreamParser();
    const events = parser.push(
      bytes(
        line({ type: "assistant", message: { content: [{ type: "thinking", thinking: "why ".repeat(5_000) }] } }) +
          line({
            type: "assistant",
            isApiErrorMessage: true,
            message: { model: "<synthetic>", content: [{ type: "text", text: "API Error: 500 Internal server error" }] },
          }) +
          line({
            type: "system",
            subtype: "model_fallback",
            content: "Switched to claude-haiku-4-5: claude-sonnet-4-5 is overloaded",
            original_model: "a",
            fallback_model: "b",
          }),
      ),
    );
    expect(events[0]!.kind).toBe("thinking");
    expect(Buffer.byteLength(events[0]!.text!)).toBeLessThanOrEqual(THINKING_MAX_BYTES);
    expect(events[0]!.text).toMatch(/^why why .*truncated\]$/);
    expect(events.slice(1)).toEqual([
      { type: "agent", kind: "api_error", text: "API Error: 500 Internal server error" },
      { type: "agent", kind: "warning", text: "Switched to claude-haiku-4-5: claude-sonnet-4-5 is overloaded" },
    ]);
  });
});

describe(`the real Claude Code ${CLAUDE_VERSION}, captured`, () => {
  const fixture = (name: string) => readFileSync(path.join(CLAUDE_FIXTURES, `${name}.jsonl`));
  const parse = (stdout: Uint8Array) => {
    const parser = createClaudeStreamParser();
    const events = [...parser.push(stdout), ...parser.end()];
    for (const event of events) expect(AgentEvent.safeParse(event).success).toBe(true);
    return { parser, events };
  };
  const rawResults = (stdout: Buffer) =>
    stdout
      .toString()
      .split("\n")
      .filter((l) => l.includes('"type":"result"'));

  it("with a background subagent: the main agent's result is the run's, though the CLI prints a second init and result after it", () => {
    const stdout = fixture("background-subagent");
    expect(rawResults(stdout)).toHaveLength(2);
    const { parser, events } = parse(stdout);
    expect(parser.finalMessage).toBe("Main agent done.");
    expect(parser.usage).toEqual({ input_tokens: 200, output_tokens: 40, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    expect(parser.costUsd).toBe(0.003);
    expect(events.filter((e) => e.kind === "init")).toHaveLength(1);
    const results = events.filter((e) => e.kind === "result");
    expect(results.map((e) => [e.text, e.parent_id])).toEqual([
      ["Main agent done.", undefined],
      ["Noted the background agent's report.", "toolu_1"],
    ]);
    // The subagent's work hangs off the Task call that started it.
    expect(events.find((e) => e.kind === "tool_use" && e.tool === "Task")).toMatchObject({ id: "toolu_1" });
    expect(events.filter((e) => e.parent_id === "toolu_1" && e.kind !== "result").map((e) => [e.kind, e.tool ?? e.text])).toEqual([
      ["tool_use", "Bash"],
      ["tool_result", "hello"],
      ["text", "Subagent found hello."],
    ]);
  });

  it("reports refused tool calls, the subagent's under its parent call, and the model's thinking", () => {
    const { parser, events } = parse(fixture("subagent-permission-denied-thinking"));
    expect(events.filter((e) => e.kind === "permission_denied")).toEqual([
      { type: "agent", kind: "permission_denied", tool: "Bash", text: "This command requires approval", id: "toolu_SUBTASKBETA_1", parent_id: "toolu_1" },
      { type: "agent", kind: "permission_denied", tool: "Bash", text: "This command requires approval", id: "toolu_2" },
    ]);
    // Each refused call's result is linked to its call by id.
    const push = events.find((e) => e.kind === "tool_use" && e.input?.includes("git push"))!;
    expect(events.find((e) => e.kind === "tool_result" && e.id === push.id)).toMatchObject({ is_error: true, text: "This command requires approval" });
    expect(events.filter((e) => e.kind === "thinking")).toEqual([{ type: "agent", kind: "thinking", text: "Both commands were refused." }]);
    expect(parser.finalMessage).toBe("Neither publishing nor pushing was allowed.");
  });

  it("reports the CLI's retries of failed model calls, then the answer", () => {
    const { parser, events } = parse(fixture("api-retry-thinking"));
    expect(events.filter((e) => e.kind === "retry").map(({ attempt, max_attempts, status, text }) => ({ attempt, max_attempts, status, text }))).toEqual([
      { attempt: 1, max_attempts: 10, status: 500, text: "server_error" },
      { attempt: 2, max_attempts: 10, status: 529, text: "overloaded" },
    ]);
    expect(events.filter((e) => e.kind === "retry").every((e) => e.retry_in_ms! > 0)).toBe(true);
    expect(events.map((e) => e.kind)).toEqual(["init", "retry", "retry", "thinking", "text", "result"]);
    expect(parser.finalMessage).toBe("Recovered.");
  });

  it("reports an API error the CLI gave up on as api_error with its status, not as assistant text", () => {
    const { parser, events } = parse(fixture("api-error-401"));
    expect(events.map((e) => e.kind)).toEqual(["init", "retry", "retry", "api_error", "result"]);
    expect(events[3]).toEqual({ type: "agent", kind: "api_error", status: 401, text: "Invalid API key · Fix external API key" });
    expect(events[4]).toMatchObject({ kind: "result", is_error: true });
    expect(parser.finalMessage).toBe("Invalid API key · Fix external API key");
  });

  it("live: the installed Claude Code with a background subagent still ends on the main agent's result", async () => {
    const { stdout, exitCode } = await captureClaudeStream(CLAUDE_SCENARIOS["background-subagent"]!);
    expect(exitCode).toBe(0);
    expect(rawResults(Buffer.from(stdout))).toHaveLength(2);
    const { parser } = parse(Buffer.from(stdout));
    expect(parser.finalMessage).toBe("Main agent done.");
  }, 60_000);
});
