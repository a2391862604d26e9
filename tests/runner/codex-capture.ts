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
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createCodexAdapter } from "../../runner/src/cli/codex/codex-adapter.js";
import { startFakeOpenAI, type OpenAIFault, type OpenAIStep } from "../support/fake-openai.js";

const BIN = fileURLToPath(new URL("../../node_modules/.bin", import.meta.url));
const CODEX_PACKAGE = fileURLToPath(new URL("../../node_modules/@openai/codex/package.json", import.meta.url));
export const CODEX_VERSION = (JSON.parse(readFileSync(CODEX_PACKAGE, "utf8")) as { version: string }).version;
export const CODEX_FIXTURES = fileURLToPath(new URL(`./fixtures/codex-${CODEX_VERSION}/`, import.meta.url));

export interface CodexScenario {
  script: readonly OpenAIStep[];
  faults?: OpenAIFault[];
}

/** The scenarios the fixtures were captured from, by fixture name. */
export const CODEX_SCENARIOS: Record<string, CodexScenario> = {
  // A 500 and a dropped stream, both retried ("Reconnecting..."), in a run that succeeds; a
  // shell command and a reasoning summary.
  "reconnect-reasoning": {
    script: [{ call: "exec_command", arguments: { cmd: "cat a.txt" } }, { text: "The file says hello.", reasoning: "**Reading the file**\n\nThe command printed hello, so I can answer." }],
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
export async function captureCodexJson(scenario: CodexScenario, timeoutMs = 90_000): Promise<{ stdout: string; exitCode: number | null }> {
  const api = await startFakeOpenAI(scenario.script, { faults: scenario.faults });
  const home = mkdtempSync(path.join(os.tmpdir(), "codex-capture-home-"));
  const cwd = mkdtempSync(path.join(os.tmpdir(), "codex-capture-repo-"));
  try {
    execFileSync("git", ["init", "-q"], { cwd });
    writeFileSync(path.join(cwd, "a.txt"), "hello\n");
    const adapter = createCodexAdapter({ pathEnv: "", env: { OPENAI_API_KEY: "sk-fake", OPENAI_BASE_URL: api.url } });
    const command = adapter.command({ prompt: "Read a.txt", model: null, scratchDir: home, autonomy: "full" });
    for (const [file, text] of Object.entries(command.homeFiles ?? {})) {
      mkdirSync(path.dirname(path.join(home, file)), { recursive: true });
      writeFileSync(path.join(home, file), text);
    }
    const child = spawn(path.join(BIN, "codex"), command.args, {
      cwd,
      env: { PATH: `${BIN}:${process.env.PATH}`, HOME: home, OPENAI_API_KEY: "sk-fake" },
      stdio: ["pipe", "pipe", "ignore"],
    });
    child.stdin.end(command.stdin);
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const exitCode = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    clearTimeout(timer);
    return { stdout: withoutMachinePaths(stdout, { cwd, home, apiUrl: api.url }), exitCode };
  } finally {
    await api.close();
    rmSync(home, { recursive: true, force: true });
    rmSync(cwd, { recursive: true, force: true });
  }
}

function withoutMachinePaths(text: string, dirs: { cwd: string; home: string; apiUrl: string }): string {
  return text
    .replaceAll(dirs.apiUrl, "https://api.example.com/v1")
    .replaceAll(dirs.cwd, "/workspace/repo")
    .replaceAll(dirs.home, "/home/agent")
    .replaceAll(`${os.tmpdir()}/`, "/scratch/");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  mkdirSync(CODEX_FIXTURES, { recursive: true });
  for (const [name, scenario] of Object.entries(CODEX_SCENARIOS)) {
    if (process.argv[2] && process.argv[2] !== name) continue;
    const { stdout, exitCode } = await captureCodexJson(scenario);
    writeFileSync(path.join(CODEX_FIXTURES, `${name}.jsonl`), stdout);
    console.log(`${name}: exit ${exitCode}, ${stdout.split("\n").length - 1} lines`);
  }
}
