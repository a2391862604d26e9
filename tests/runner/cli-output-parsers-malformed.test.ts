// Unit: the JSON-lines parsers of Codex, Gemini CLI and opencode on lines of every known event
// type with the wrong types in them, and on lines that are not JSON objects: none throws, and
// every event it makes is valid under the contract.
import { describe, expect, it } from "vitest";
import { AgentEvent } from "#api/index.js";
import { createCodexJsonParser } from "../../runner/src/cli/codex/codex-json-parser.js";
import { createGeminiStreamParser } from "../../runner/src/cli/gemini/gemini-stream-parser.js";
import { createOpencodeJsonParser } from "../../runner/src/cli/opencode/opencode-json-parser.js";
import { feed } from "./harness/parser-input.js";

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
