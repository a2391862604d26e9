// Unit: the parser of `opencode run --format json` on hand-made lines (cost summed over steps,
// errors, reasoning, refused calls) and on output of the real opencode captured in
// fixtures/opencode-1.18.33 (by opencode-capture.ts).
import { describe, expect, it } from "vitest";
import { createOpencodeJsonParser } from "../../runner/src/cli/opencode/opencode-json-parser.js";
import { feed, parseCaptured } from "./harness/parser-input.js";
import { OPENCODE_FIXTURES, OPENCODE_VERSION } from "./opencode-capture.js";

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
  const parse = (name: string) => parseCaptured(createOpencodeJsonParser(), OPENCODE_FIXTURES, name);

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
