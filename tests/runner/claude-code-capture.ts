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
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeAnthropic, type FakeAnthropicOptions, type ScriptStep } from "../support/fake-anthropic.js";
import { captureCli, fixturesDir, pinnedVersion, writeFixtures, type Captured } from "./harness/cli-capture.js";

export const CLAUDE_BIN = path.join(fileURLToPath(new URL("../../node_modules/@anthropic-ai/claude-code", import.meta.url)), "bin", "claude.exe");
export const CLAUDE_VERSION = pinnedVersion("@anthropic-ai/claude-code");
export const CLAUDE_FIXTURES = fixturesDir("claude-code", CLAUDE_VERSION);

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
      subagents: {
        "SUBTASK-ALPHA": [
          { tool: "Bash", input: { command: "cat a.txt", description: "read" } },
          { text: "Subagent found hello.", delay_ms: 3_000 },
        ],
      },
      // The CLI's own turn on the subagent's notice.
      replies: { "<task-notification>": { text: "Noted the background agent's report." } },
    },
    args: ["--allowedTools", "Bash,Task"],
  },
  // A foreground subagent's shell command, then the main agent's, refused in acceptEdits mode.
  "subagent-permission-denied-thinking": {
    script: [
      {
        tool: "Task",
        input: { description: "Publish the package", prompt: "SUBTASK-BETA: publish the package", subagent_type: "general-purpose", run_in_background: false },
      },
      { tool: "Bash", input: { command: "git push origin main", description: "push" } },
      { text: "Neither publishing nor pushing was allowed.", thinking: "Both commands were refused." },
    ],
    api: {
      subagents: {
        "SUBTASK-BETA": [{ tool: "Bash", input: { command: "npm publish", description: "publish" } }, { text: "Could not publish: permission denied." }],
      },
    },
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
export async function captureClaudeStream(scenario: ClaudeScenario, timeoutMs = 60_000): Promise<Captured> {
  return captureCli({
    api: await startFakeAnthropic(scenario.script, scenario.api),
    repo: true,
    timeoutMs,
    launch: ({ apiUrl }) => ({
      command: CLAUDE_BIN,
      args: ["-p", "--output-format", "stream-json", "--verbose", "--model", "claude-sonnet-4-5", ...(scenario.args ?? [])],
      env: {
        ANTHROPIC_BASE_URL: apiUrl,
        ANTHROPIC_API_KEY: "sk-ant-fake",
        DISABLE_TELEMETRY: "1",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        ...scenario.env,
      },
      stdin: "do it",
    }),
  });
}

await writeFixtures(import.meta.url, CLAUDE_FIXTURES, CLAUDE_SCENARIOS, (scenario) => captureClaudeStream(scenario));
