/**
 * The demo CLI and the stand-in CLIs read their prompt from stdin the way CodeForge hands it
 * over: through a pipe the runner may write a moment after the process starts. Under load that
 * moment is long; a reader that made fd 0 non-blocking and read once got EAGAIN and died
 * (exit 1) — a flaky "cli_failed" in loaded test runs. These start each CLI with a pipe and
 * write the prompt only after a pause.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const DEMO = fileURLToPath(new URL("../../runner/bin/demo-cli.mjs", import.meta.url));
const BIN = fileURLToPath(new URL("./fixtures/bin", import.meta.url));

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Runs `file` with `args`, writing `input` to its stdin only after `delayMs`. */
function runWithLateStdin(file: string, args: string[], input: string, delayMs: number, env: NodeJS.ProcessEnv = {}) {
  dir = mkdtempSync(path.join(os.tmpdir(), "codeforge-stdin-"));
  const child = spawn(process.execPath, [file, ...args], { cwd: dir, stdio: ["pipe", "pipe", "pipe"], env: { PATH: process.env.PATH, ...env } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  setTimeout(() => child.stdin.end(input), delayMs);
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

describe("a prompt on stdin that arrives late", () => {
  it("is read whole by the demo CLI, which then does its work", async () => {
    const run = await runWithLateStdin(DEMO, ["-p", "--output-format", "stream-json", "--verbose"], "Late prompt\nsecond line", 400);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(readFileSync(path.join(dir!, "CODEFORGE_NOTES.md"), "utf8")).toContain("- Late prompt");
    const result = run.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { type: string; result?: string })
      .find((e) => e.type === "result");
    expect(result?.result).toBe('Noted "Late prompt" in CODEFORGE_NOTES.md.');
  });

  it("is read whole by the stand-in opencode, which checks its input like the real one", async () => {
    const run = await runWithLateStdin(path.join(BIN, "opencode"), ["run", "--format", "json"], "Late opencode prompt", 400, { OPENAI_API_KEY: "sk-test" });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(readFileSync(path.join(dir!, "EDITED_BY_OPENCODE.md"), "utf8")).toBe("opencode ran:\nLate opencode prompt\n");
  });
});
