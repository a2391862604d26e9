/**
 * Runs the real Codex CLI (the pinned dev dependency) as the runner's adapter runs it, `codex
 * exec --json` with the adapter's settings file in a temp HOME, against the local fake of
 * OpenAI's Responses API, and returns what it printed. The parser tests use its fixtures:
 *
 *   npx tsx tests/runner/codex-capture.ts
 *
 * Paths of the machine it ran on are replaced (`/workspace/repo`, `/home/agent`, `/scratch/`),
 * and the fake's address by `https://api.example.com/v1`, so a fixture names no real place.
 * @module
 */
import { createCodexAdapter } from "../../runner/src/cli/codex/codex-adapter.js";
import { startFakeOpenAI, type OpenAIFault, type OpenAIStep } from "../support/fake-openai.js";
import { captureCli, fixturesDir, pinnedVersion, writeFixtures, type Captured } from "./harness/cli-capture.js";

export const CODEX_VERSION = pinnedVersion("@openai/codex");
export const CODEX_FIXTURES = fixturesDir("codex", CODEX_VERSION);

export interface CodexScenario {
  script: readonly OpenAIStep[];
  faults?: OpenAIFault[];
}

/** The scenarios the fixtures were captured from, by fixture name. */
export const CODEX_SCENARIOS: Record<string, CodexScenario> = {
  // A 500 and a dropped stream, both retried ("Reconnecting..."), in a run that succeeds; a
  // shell command and a reasoning summary.
  "reconnect-reasoning": {
    script: [
      { call: "exec_command", arguments: { cmd: "cat a.txt" } },
      { text: "The file says hello.", reasoning: "**Reading the file**\n\nThe command printed hello, so I can answer." },
    ],
    faults: [
      { turn: 0, kind: "http_500" },
      { turn: 1, kind: "drop_stream" },
    ],
  },
  // A bad key: retried five times ("Reconnecting... n/5"), then the turn fails.
  "api-error-401": {
    script: [{ error: { status: 401, message: "Incorrect API key provided: sk-fake.", type: "invalid_request_error", code: "invalid_api_key" } }],
  },
  // The API refuses the request, not retried: the turn fails.
  "api-error": {
    script: [{ error: { status: 400, message: "The model `gpt-none` does not exist", type: "invalid_request_error", code: "model_not_found" } }],
  },
};

/** Runs Codex on `scenario`; resolves with its stdout (paths replaced) and exit code. */
export async function captureCodexJson(scenario: CodexScenario, timeoutMs = 90_000): Promise<Captured> {
  return captureCli({
    api: await startFakeOpenAI(scenario.script, { faults: scenario.faults }),
    repo: true,
    timeoutMs,
    launch: ({ home, apiUrl }) => {
      const adapter = createCodexAdapter({ pathEnv: "", env: { OPENAI_API_KEY: "sk-fake", OPENAI_BASE_URL: apiUrl } });
      const command = adapter.command({ prompt: "Read a.txt", model: null, scratchDir: home, autonomy: "full" });
      return { command: "codex", args: command.args, env: { OPENAI_API_KEY: "sk-fake" }, stdin: command.stdin, homeFiles: command.homeFiles };
    },
  });
}

await writeFixtures(import.meta.url, CODEX_FIXTURES, CODEX_SCENARIOS, (scenario) => captureCodexJson(scenario));
