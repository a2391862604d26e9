/**
 * Runs the real Gemini CLI (the pinned dev dependency) as the runner's adapter runs it, with
 * `--output-format stream-json`, against a local stand-in of Google's Gemini API, and returns
 * what it printed. The parser tests use its fixtures:
 *
 *   npx tsx tests/runner/gemini-capture.ts
 *
 * Scenarios: a plain answer (from `fake-model-apis.ts`), and a fatal API error (an endpoint
 * that answers every call with a 400). Paths of the machine it ran on are replaced.
 * @module
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createGeminiAdapter } from "../../runner/src/cli/gemini/gemini-adapter.js";
import { startFakeModelApis } from "../support/fake-model-apis.js";

const BIN = fileURLToPath(new URL("../../node_modules/.bin", import.meta.url));
const GEMINI_PACKAGE = fileURLToPath(new URL("../../node_modules/@google/gemini-cli/package.json", import.meta.url));
export const GEMINI_VERSION = (JSON.parse(readFileSync(GEMINI_PACKAGE, "utf8")) as { version: string }).version;
export const GEMINI_FIXTURES = fileURLToPath(new URL(`./fixtures/gemini-cli-${GEMINI_VERSION}/`, import.meta.url));

/** A Gemini API that refuses every call with `status` and Google's error body. */
async function startRefusingApi(status: number, message: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: status, message, status: "INVALID_ARGUMENT" } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export const GEMINI_SCENARIOS = {
  answer: () => startFakeModelApis(),
  "api-error-400": () => startRefusingApi(400, "API key not valid. Please pass a valid API key."),
} as const;

/** Runs Gemini CLI against the scenario's API; resolves with its stdout (paths replaced) and exit code. */
export async function captureGeminiStream(scenario: keyof typeof GEMINI_SCENARIOS, timeoutMs = 90_000): Promise<{ stdout: string; exitCode: number | null }> {
  const api = await GEMINI_SCENARIOS[scenario]();
  const home = mkdtempSync(path.join(os.tmpdir(), "gemini-capture-home-"));
  const cwd = mkdtempSync(path.join(os.tmpdir(), "gemini-capture-repo-"));
  try {
    // Without a chosen auth method Gemini CLI refuses to start headless.
    mkdirSync(path.join(home, ".gemini"));
    writeFileSync(path.join(home, ".gemini", "settings.json"), JSON.stringify({ security: { auth: { selectedType: "gemini-api-key" } } }));
    const command = createGeminiAdapter({ pathEnv: "" }).command({ prompt: "Say hello", model: "gemini-2.5-flash", scratchDir: home, autonomy: "full" });
    const child = spawn(path.join(BIN, "gemini"), command.args, {
      cwd,
      env: { PATH: `${BIN}:${process.env.PATH}`, HOME: home, GEMINI_API_KEY: "fake-key", GOOGLE_GEMINI_BASE_URL: api.url, ...command.env },
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
  mkdirSync(GEMINI_FIXTURES, { recursive: true });
  for (const name of Object.keys(GEMINI_SCENARIOS) as (keyof typeof GEMINI_SCENARIOS)[]) {
    const { stdout, exitCode } = await captureGeminiStream(name);
    writeFileSync(path.join(GEMINI_FIXTURES, `${name}.jsonl`), stdout);
    console.log(`${name}: exit ${exitCode}, ${stdout.split("\n").length - 1} lines`);
  }
}
