// Integration: the demo CLI (runner/src/cli/demo) run as a real child process: it edits the
// repository, prints Claude Code's stream-json that the Claude parser reads, and honours the
// directives in its prompt (lines, tick, stderr, exit, bytes).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createClaudeStreamParser } from "../../runner/src/cli/claude/claude-stream-parser.js";
import { DEMO_CLI_PATH } from "../../runner/src/cli/demo/demo-adapter.js";

describe("demo CLI", () => {
  function runDemo(prompt: string, extra: string[] = []) {
    const cwd = mkdtempSync(path.join(os.tmpdir(), "codeforge-demo-"));
    try {
      const stdout = execFileSync(process.execPath, [DEMO_CLI_PATH, "-p", prompt, "--output-format", "stream-json", "--verbose", ...extra], { cwd });
      return { stdout, notes: readFileSync(path.join(cwd, "CODEFORGE_NOTES.md"), "utf8"), cwd };
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }

  it("edits the repository and prints Claude Code stream-json that parses into the expected events", () => {
    const { stdout, notes } = runDemo("Document the build\nsecond line", ["--model", "demo-large"]);
    expect(notes).toBe("# CodeForge notes\n\n## Requests\n\n- Document the build\n");
    const lines = stdout
      .toString()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: "system", subtype: "init", model: "demo-large" });
    expect(lines[0].session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines.at(-1)).toMatchObject({ type: "result", subtype: "success", is_error: false, total_cost_usd: 0 });

    const parser = createClaudeStreamParser();
    const events = [...parser.push(stdout), ...parser.end()];
    expect(events.map((e) => e.kind)).toEqual(["init", "text", "tool_use", "tool_result", "text", "result"]);
    expect(events[2]).toMatchObject({ kind: "tool_use", tool: "Write" });
    expect(JSON.parse(events[2]!.input!)).toMatchObject({ content: notes });
    expect(parser.finalMessage).toBe('Noted "Document the build" in CODEFORGE_NOTES.md.');
  });

  it("honours lines, tick (with sent_at_ms), stderr and exit directives", () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), "codeforge-demo-"));
    try {
      const before = Date.now();
      const result = (() => {
        try {
          execFileSync(process.execPath, [DEMO_CLI_PATH, "-p", "Go [demo:lines=3][demo:tick=5][demo:stderr=warn here][demo:exit=4]"], { cwd, stdio: "pipe" });
          return null;
        } catch (err) {
          return err as { status: number; stdout: Buffer; stderr: Buffer };
        }
      })();
      expect(result?.status).toBe(4);
      expect(result!.stderr.toString()).toBe("warn here\n");
      const lines = result!.stdout
        .toString()
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      const ticks = lines.filter((l) => "sent_at_ms" in l);
      expect(ticks).toHaveLength(3);
      for (const tick of ticks) expect(tick.sent_at_ms).toBeGreaterThanOrEqual(before);
      expect(lines.at(-1)).toMatchObject({ type: "result", subtype: "error_during_execution", is_error: true });
      expect(readFileSync(path.join(cwd, "CODEFORGE_NOTES.md"), "utf8")).toContain("- Go\n");
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it("writes the requested number of bulk bytes", () => {
    const { stdout } = runDemo("[demo:bytes=300000]");
    const jsonBytes = stdout
      .toString()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .reduce((sum, l) => sum + Buffer.byteLength(l) + 1, 0);
    expect(stdout.length - jsonBytes).toBe(300_000);
  });
});
