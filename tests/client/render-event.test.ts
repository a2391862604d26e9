/**
 * Unit: how `codeforge watch`/`logs` print events — a connection the sandbox's egress policy
 * refused: one line with host, port and why; and the agent events the runner's parsers make of
 * real CLI output (the captured fixtures of the parser tests): retries, refused calls, API
 * errors, thinking.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { AgentEvent, StreamEvent } from "#api/stream-events.js";
import { eventTime, rawOutput, renderEvent, stampLines } from "../../client/render-event.js";
import { createClaudeStreamParser } from "../../runner/src/cli/claude/claude-stream-parser.js";
import { createCodexJsonParser } from "../../runner/src/cli/codex/codex-json-parser.js";
import type { OutputParser } from "../../runner/src/cli/cli-adapter.js";
import { CLAUDE_FIXTURES } from "../runner/claude-code-capture.js";
import { CODEX_FIXTURES } from "../runner/codex-capture.js";

const envelope = { seq: 7, ts: "2026-11-23T10:00:00.000Z", iteration: 1, attempt: 1 };

describe("renderEvent", () => {
  it("prints an egress_denied event as one line: egress denied: host:port (reason)", () => {
    const event: StreamEvent = { ...envelope, type: "egress_denied", host: "evil.example.net", port: 443, reason: "not in the task's egress_allow" };
    expect(renderEvent(event, { color: false })).toBe("  ✖ egress denied: evil.example.net:443 (not in the task's egress_allow)");
  });

  it("marks what the task's setup printed, said and was refused as setup, and shows plain output as it is", () => {
    const render = (event: StreamEvent) => renderEvent(event, { color: false });
    expect(render({ ...envelope, type: "output", stream: "stdout", text: "added 12 packages\n{ok}\n", offset: 0, phase: "setup" })).toBe(
      "  setup │ added 12 packages\n  setup │ {ok}",
    );
    expect(render({ ...envelope, type: "output", stream: "stderr", text: "npm warn deprecated\n", offset: 0, phase: "setup" })).toBe(
      "  setup ! npm warn deprecated",
    );
    expect(render({ ...envelope, type: "log", source: "runner", level: "info", message: "Setup: npm ci", phase: "setup" })).toBe("  [setup] Setup: npm ci");
    expect(render({ ...envelope, type: "egress_denied", host: "api.example.com", port: 443, reason: "a model API", phase: "setup" })).toBe(
      "  ✖ setup egress denied: api.example.com:443 (a model API)",
    );
    // The CLI's own output and lines are as they were.
    expect(render({ ...envelope, type: "output", stream: "stdout", text: "plain\n", offset: 0 })).toBe("  plain");
    expect(render({ ...envelope, type: "log", source: "runner", level: "info", message: "Cloning" })).toBe("  [runner] Cloning");
  });

  it("brackets an IPv6 address and keeps a multi-line reason on one line", () => {
    const event: StreamEvent = { ...envelope, type: "egress_denied", host: "fd00::1", port: 22, reason: "a private address\nrefused" };
    const line = renderEvent(event, { color: false })!;
    expect(line).toBe("  ✖ egress denied: [fd00::1]:22 (a private address refused)");
    expect(line).not.toContain("\n");
  });

  it("prints the attempt's running usage with its budget", () => {
    const event: StreamEvent = {
      ...envelope,
      type: "usage",
      calls: 3,
      input_tokens: 1_200,
      output_tokens: 300,
      cache_read_input_tokens: 500,
      cache_creation_input_tokens: 0,
      cost_usd: 0.0125,
      max_cost_usd: 1,
    };
    expect(renderEvent(event, { color: false })).toBe("  ◦ usage: 3 call(s), 2000 tokens $0.0125 of $1.00");
  });

  it("prints retries, denials and API errors as their own lines", () => {
    const retry: StreamEvent = { ...envelope, type: "agent", kind: "retry", attempt: 2, max_attempts: 10, retry_in_ms: 1_500, status: 529 };
    expect(renderEvent(retry, { color: false })).toBe("  ↻ retrying the model call (attempt 2/10) in 1.5 s: HTTP 529");
    const denied: StreamEvent = { ...envelope, type: "agent", kind: "permission_denied", tool: "Bash", text: "rm -rf /" };
    expect(renderEvent(denied, { color: false })).toBe("  ✖ permission denied: Bash (rm -rf /)");
    const error: StreamEvent = { ...envelope, type: "agent", kind: "api_error", status: 400, text: "CodeForge budget exceeded" };
    expect(renderEvent(error, { color: false })).toBe("  ✖ model API error (HTTP 400): CodeForge budget exceeded");
  });

  it("shows a result's cost, tokens and per-model figures, and a masked patch", () => {
    const event: StreamEvent = {
      ...envelope,
      type: "result",
      result: {
        exit_code: 0,
        duration_ms: 2_000,
        changed_files: [],
        changed_files_truncated: false,
        diff_stat: { files_changed: 0, insertions: 0, deletions: 0 },
        patch: "",
        patch_truncated: false,
        final_message: null,
        push: null,
        sandbox: "bubblewrap",
        cost_usd: 0.042,
        usage: { input_tokens: 1_000, output_tokens: 200, cache_read_input_tokens: 300, cache_creation_input_tokens: 0 },
        usage_source: "gateway",
        cli_reported: null,
        patch_masked: true,
        phases: { setup: { duration_ms: 4_321, dependency_cache: "hit" } },
        model_usage: {
          "claude-sonnet-4-5": {
            calls: 2,
            input_tokens: 1_000,
            output_tokens: 200,
            cache_read_input_tokens: 300,
            cache_creation_input_tokens: 0,
            cost_usd: 0.042,
          },
        },
      },
    };
    const text = renderEvent(event, { color: false })!;
    expect(text).toContain("    cost          $0.0420 (metered by the runner)");
    expect(text).toContain("    tokens        1000 in, 200 out, 300 cache read");
    expect(text).toContain("      claude-sonnet-4-5: 2 call(s), 1300 in, 200 out, $0.0420");
    expect(text).toContain("MASKED");
    expect(text).toContain("    setup         4.3 s (dependency cache: hit)");
  });
});

describe("renderEvent on agent events parsed from real CLI output", () => {
  const rendered = (parser: OutputParser, fixture: string) => {
    const events: AgentEvent[] = [...parser.push(readFileSync(fixture)), ...parser.end()];
    return events.map((event, i) => renderEvent({ ...envelope, seq: i + 1, ...event }, { color: false }));
  };

  it("prints Claude Code's retries with attempt, wait and status, then the API error it gave up on", () => {
    const lines = rendered(createClaudeStreamParser(), path.join(CLAUDE_FIXTURES, "api-error-401.jsonl"));
    expect(lines[1]).toMatch(/^ {2}↻ retrying the model call \(attempt 1\/2\) in \d\.\d s: HTTP 401 authentication_failed$/);
    expect(lines[3]).toBe("  ✖ model API error (HTTP 401): Invalid API key · Fix external API key");
  });

  it("prints refused tool calls with the tool and why, and the model's thinking", () => {
    const lines = rendered(createClaudeStreamParser(), path.join(CLAUDE_FIXTURES, "subagent-permission-denied-thinking.jsonl"));
    // The first refusal was the subagent's (set apart under its call), the second the main agent's.
    expect(lines.filter((l) => l?.includes("permission denied"))).toEqual([
      "  │ ✖ permission denied: Bash (This command requires approval)",
      "  ✖ permission denied: Bash (This command requires approval)",
    ]);
    expect(lines).toContain("  ∴ Both commands were refused.");
  });

  it("prints Codex's reconnect as a retry, not an error", () => {
    const lines = rendered(createCodexJsonParser(), path.join(CODEX_FIXTURES, "reconnect-reasoning.jsonl"));
    expect(lines.find((l) => l?.includes("↻"))).toMatch(/^ {2}↻ retrying the model call \(attempt 1\/5\) stream disconnected before completion/);
    expect(lines.some((l) => l?.includes("✖"))).toBe(false);
  });

  it("sets a subagent's work apart under its parent call, and its result is not the run's", () => {
    const tool: StreamEvent = { ...envelope, type: "agent", kind: "tool_use", tool: "Read", input: "{}", id: "toolu_9", parent_id: "toolu_1" };
    expect(renderEvent(tool, { color: false })).toBe("  │ ⚙ Read {}");
    const done: StreamEvent = { ...envelope, type: "agent", kind: "result", text: "Found it", parent_id: "toolu_1" };
    expect(renderEvent(done, { color: false })).toBe("  │ ↳ subagent done: Found it");
    const main: StreamEvent = { ...envelope, type: "agent", kind: "result", text: "All done" };
    expect(renderEvent(main, { color: false })).toBe("  ✔ All done");
  });

  it("--timestamps: prefixes every line of an event with its time, HH:MM:SS in UTC", () => {
    expect(eventTime("2026-11-23T10:04:05.678Z")).toBe("10:04:05");
    expect(eventTime("2026-11-23T23:59:59+02:00")).toBe("21:59:59");
    expect(eventTime("not a time")).toBe("--:--:--");
    expect(stampLines("  result\n    exit code 0", envelope.ts, false)).toBe("10:00:00   result\n10:00:00     exit code 0");
    expect(stampLines("● running", envelope.ts, true)).toBe("\x1b[2m10:00:00\x1b[0m ● running");
  });

  it("--raw: only output events, their text unchanged, JSON lines included", () => {
    const json: StreamEvent = { ...envelope, type: "output", stream: "stdout", text: '{"type":"assistant"}\n{"ty', offset: 0 };
    expect(renderEvent(json, { color: false })).toBeNull();
    expect(rawOutput(json)).toEqual({ text: '{"type":"assistant"}\n{"ty', stream: "stdout" });
    expect(rawOutput({ ...envelope, type: "output", stream: "stderr", text: "warn\n", offset: 3 })).toEqual({ text: "warn\n", stream: "stderr" });
    expect(rawOutput({ ...envelope, type: "log", source: "runner", level: "info", message: "Cloning" })).toBeNull();
    expect(rawOutput({ ...envelope, type: "output", stream: "stdout", text: "added 3 packages\n", offset: 0, phase: "setup" })).toBeNull();
  });
});
