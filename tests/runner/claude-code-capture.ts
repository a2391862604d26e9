/**
 * Runs the real Claude Code (the pinned dev dependency) in print mode with `stream-json` output
 * against the local fake Anthropic API, in a temp git repository with a temp HOME, and returns
 * what it printed. The parser tests use it live, and it (re)writes their fixtures:
 *
 *   npx tsx tests/runner/claude-code-capture.ts
 *
 * Paths of the machine it ran on are replaced (`/workspace/repo`, `/home/agent`, `/scratch/`),
 * so a fixture names no real directory.
 * @module
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeAnthropic, type FakeAnthropicOptions, type ScriptStep } from "../support/fake-anthropic.js";

const CLAUDE_PACKAGE = fileURLToPath(new URL("../../node_modules/@anthropic-ai/claude-code", import.meta.url));
export const CLAUDE_BIN = path.join(CLAUDE_PACKAGE, "bin", "claude.exe");
export const CLAUDE_VERSION = (JSON.parse(readFileSync(path.join(CLAUDE_PACKAGE, "package.json"), "utf8")) as { version: string }).version;
export const CLAUDE_FIXTURES = fileURLToPath(new URL(`./fixtures/claude-code-${CLAUDE_VERSION}/`, import.meta.url));

export interface ClaudeScenario {
  script: readonly ScriptStep[];
  api?: FakeAnthropicOptions;
  /** Extra arguments: a permission mode, allowed tools. */
  args?: readonly string[];
  env?: Record<string, string>;
}

/** The scenarios the fixtures were captured from, by fixture name. */
export const CLAUDE_SCENARIOS: Record<string, ClaudeScenario> = {
  // The main agent starts a subagent in the background (the default) and ends its turn first;
  // the CLI then runs a turn of its own on the subagent's notice: a second init and result.
  "background-subagent": {
    script: [
      { tool: "Task", input: { description: "Read the file", prompt: "SUBTASK-ALPHA: read a.txt", subagent_type: "general-purpose", run_in_background: true } },
      { text: "Main agent done." },
    ],
    api: {
      subagents: { "SUBTASK-ALPHA": [{ tool: "Bash", input: { command: "cat a.txt", description: "read" } }, { text: "Subagent found hello.", delay_ms: 3_000 }] },
      // The CLI's own turn on the subagent's notice.
      replies: { "<task-notification>": { text: "Noted the background agent's report." } },
    },
    args: ["--allowedTools", "Bash,Task"],
  },
  // A foreground subagent's shell command, then the main agent's, refused in acceptEdits mode.
  "subagent-permission-denied-thinking": {
    script: [
      { tool: "Task", input: { description: "Publish the package", prompt: "SUBTASK-BETA: publish the package", subagent_type: "general-purpose", run_in_background: false } },
      { tool: "Bash", input: { command: "git push origin main", description: "push" } },
      { text: "Neither publishing nor pushing was allowed.", thinking: "Both commands were refused." },
    ],
    api: { subagents: { "SUBTASK-BETA": [{ tool: "Bash", input: { command: "npm publish", description: "publish" } }, { text: "Could not publish: permission denied." }] } },
    args: ["--permission-mode", "acceptEdits"],
  },
  // Two server errors retried, then an answer with thinking.
  "api-retry-thinking": {
    script: [{ text: "Recovered.", thinking: "The user wants me to do it. I will answer briefly." }],
    api: { failures: [{ status: 500 }, { status: 529 }] },
  },
  // A bad key: retried (two retries allowed here, ten by default), then given up.
  "api-error-401": {
    script: [{ text: "never sent" }],
    api: { failures: Array.from({ length: 3 }, () => ({ status: 401, message: "invalid x-api-key" })) },
    env: { CLAUDE_CODE_MAX_RETRIES: "2" },
  },
};

/** Runs Claude Code on `scenario`; resolves with its stdout (paths replaced) and exit code. */
export async function captureClaudeStream(scenario: ClaudeScenario, timeoutMs = 60_000): Promise<{ stdout: string; exitCode: number | null }> {
  const api = await startFakeAnthropic(scenario.script, scenario.api);
  const home = mkdtempSync(path.join(os.tmpdir(), "claude-capture-home-"));
  const cwd = mkdtempSync(path.join(os.tmpdir(), "claude-capture-repo-"));
  try {
    execFileSync("git", ["init", "-q"], { cwd });
    writeFileSync(path.join(cwd, "a.txt"), "hello\n");
    const child = spawn(CLAUDE_BIN, ["-p", "--output-format", "stream-json", "--verbose", "--model", "claude-sonnet-4-5", ...(scenario.args ?? [])], {
      cwd,
      env: {
        PATH: process.env.PATH,
        HOME: home,
        ANTHROPIC_BASE_URL: api.url,
        ANTHROPIC_API_KEY: "sk-ant-fake",
        DISABLE_TELEMETRY: "1",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        ...scenario.env,
      },
      stdio: ["pipe", "pipe", "ignore"],
    });
    child.stdin.end("do it");
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const exitCode = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    clearTimeout(timer);
    return { stdout: withoutMachinePaths(stdout, { cwd, home }), exitCode };
  } finally {
    await api.close();
    rmSync(home, { recursive: true, force: true });
    rmSync(cwd, { recursive: true, force: true });
  }
}

function withoutMachinePaths(text: string, dirs: { cwd: string; home: string }): string {
  const dashed = (dir: string) => dir.replace(/[^A-Za-z0-9]/g, "-");
  return text
    .replaceAll(dirs.cwd, "/workspace/repo")
    .replaceAll(dashed(dirs.cwd), "-workspace-repo")
    .replaceAll(dirs.home, "/home/agent")
    .replaceAll(`${os.tmpdir()}/`, "/scratch/");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  for (const [name, scenario] of Object.entries(CLAUDE_SCENARIOS)) {
    const { stdout, exitCode } = await captureClaudeStream(scenario);
    writeFileSync(path.join(CLAUDE_FIXTURES, `${name}.jsonl`), stdout);
    console.log(`${name}: exit ${exitCode}, ${stdout.split("\n").length - 1} lines`);
  }
}
