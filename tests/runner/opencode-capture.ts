/**
 * Runs the real opencode (the pinned dev dependency) as the runner's adapter runs it, `opencode
 * run --format json` (with `--auto` for full autonomy), its Anthropic provider pointed at the
 * local fake Anthropic API, and returns what it printed. The parser tests use its fixtures:
 *
 *   npx tsx tests/runner/opencode-capture.ts
 *
 * Paths of the machine it ran on are replaced (`/workspace/repo`, `/home/agent`, `/scratch/`),
 * and the fake's address by `https://api.example.com`.
 * @module
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createOpencodeAdapter } from "../../runner/src/cli/opencode/opencode-adapter.js";
import { startFakeAnthropic, type FakeAnthropicOptions, type ScriptStep } from "../support/fake-anthropic.js";

const BIN = fileURLToPath(new URL("../../node_modules/.bin", import.meta.url));
const OPENCODE_PACKAGE = fileURLToPath(new URL("../../node_modules/opencode-ai/package.json", import.meta.url));
export const OPENCODE_VERSION = (JSON.parse(readFileSync(OPENCODE_PACKAGE, "utf8")) as { version: string }).version;
export const OPENCODE_FIXTURES = fileURLToPath(new URL(`./fixtures/opencode-${OPENCODE_VERSION}/`, import.meta.url));

export interface OpencodeScenario {
  script: readonly ScriptStep[];
  api?: FakeAnthropicOptions;
  autonomy: "full" | "edits";
}

/** The scenarios the fixtures were captured from, by fixture name. */
export const OPENCODE_SCENARIOS: Record<string, OpencodeScenario> = {
  // Without --auto, reading outside the project asks for permission, which `run` rejects; the
  // run then stops after that step, with no closing step.
  "permission-rejected": {
    script: [{ tool: "read", input: { filePath: "/etc/hostname" } }, { text: "Could not read it." }],
    autonomy: "edits",
  },
  // With --auto the same call is allowed, and the run ends with the model's answer.
  "auto-approved": {
    script: [{ tool: "bash", input: { command: "cat a.txt", description: "Show a.txt" } }, { text: "The file says hello." }],
    autonomy: "full",
  },
  // A bad key: the API answers 401, which opencode does not retry.
  "api-error-401": {
    script: [{ text: "never sent" }],
    api: { failures: Array.from({ length: 5 }, () => ({ status: 401, message: "invalid x-api-key" })) },
    autonomy: "full",
  },
};

/** Runs opencode on `scenario`; resolves with its stdout (paths replaced) and exit code. */
export async function captureOpencodeJson(scenario: OpencodeScenario, timeoutMs = 90_000): Promise<{ stdout: string; exitCode: number | null }> {
  const api = await startFakeAnthropic(scenario.script, scenario.api);
  const home = mkdtempSync(path.join(os.tmpdir(), "opencode-capture-home-"));
  const cwd = mkdtempSync(path.join(os.tmpdir(), "opencode-capture-repo-"));
  try {
    execFileSync("git", ["init", "-q"], { cwd });
    writeFileSync(path.join(cwd, "a.txt"), "hello\n");
    const command = createOpencodeAdapter({ pathEnv: "" }).command({ prompt: "Read the file", model: "anthropic/claude-sonnet-4-5", scratchDir: home, autonomy: scenario.autonomy });
    const config = { autoupdate: false, share: "disabled", provider: { anthropic: { options: { baseURL: `${api.url}/v1` } } } };
    const child = spawn(path.join(BIN, "opencode"), command.args, {
      cwd,
      env: { PATH: `${BIN}:${process.env.PATH}`, HOME: home, ANTHROPIC_API_KEY: "sk-ant-fake", OPENCODE_CONFIG_CONTENT: JSON.stringify(config), OPENCODE_DISABLE_MODELS_FETCH: "1" },
      stdio: ["pipe", "pipe", "ignore"],
    });
    child.stdin.end(command.stdin);
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const exitCode = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    clearTimeout(timer);
    const clean = stdout.replaceAll(api.url, "https://api.example.com").replaceAll(cwd, "/workspace/repo").replaceAll(home, "/home/agent").replaceAll(`${os.tmpdir()}/`, "/scratch/");
    return { stdout: clean, exitCode };
  } finally {
    await api.close();
    rmSync(home, { recursive: true, force: true });
    rmSync(cwd, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  mkdirSync(OPENCODE_FIXTURES, { recursive: true });
  for (const [name, scenario] of Object.entries(OPENCODE_SCENARIOS)) {
    if (process.argv[2] && process.argv[2] !== name) continue;
    const { stdout, exitCode } = await captureOpencodeJson(scenario);
    writeFileSync(path.join(OPENCODE_FIXTURES, `${name}.jsonl`), stdout);
    console.log(`${name}: exit ${exitCode}, ${stdout.split("\n").length - 1} lines`);
  }
}
