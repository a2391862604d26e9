// Unit: the parser of Gemini CLI's stream-json on hand-made lines (failed tools, warnings, fatal
// errors) and on output of the real Gemini CLI captured in fixtures/gemini-cli-0.61.0 (by
// gemini-capture.ts).
import { describe, expect, it } from "vitest";
import { createGeminiStreamParser } from "../../runner/src/cli/gemini/gemini-stream-parser.js";
import { GEMINI_FIXTURES, GEMINI_VERSION } from "./gemini-capture.js";
import { feed, parseCaptured } from "./harness/parser-input.js";

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
  const parse = (name: string) => parseCaptured(createGeminiStreamParser(), GEMINI_FIXTURES, name);

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
