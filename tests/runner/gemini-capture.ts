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
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createGeminiAdapter } from "../../runner/src/cli/gemini/gemini-adapter.js";
import { startFakeModelApis } from "../support/fake-model-apis.js";
import { captureCli, fixturesDir, pinnedVersion, writeFixtures, type Captured } from "./harness/cli-capture.js";

export const GEMINI_VERSION = pinnedVersion("@google/gemini-cli");
export const GEMINI_FIXTURES = fixturesDir("gemini-cli", GEMINI_VERSION);

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
export async function captureGeminiStream(scenario: keyof typeof GEMINI_SCENARIOS, timeoutMs = 90_000): Promise<Captured> {
  return captureCli({
    api: await GEMINI_SCENARIOS[scenario](),
    timeoutMs,
    launch: ({ home, apiUrl }) => {
      const command = createGeminiAdapter({ pathEnv: "" }).command({ prompt: "Say hello", model: "gemini-2.5-flash", scratchDir: home, autonomy: "full" });
      return {
        command: "gemini",
        args: command.args,
        env: { GEMINI_API_KEY: "fake-key", GOOGLE_GEMINI_BASE_URL: apiUrl, ...command.env },
        stdin: command.stdin,
        // Without a chosen auth method Gemini CLI refuses to start headless.
        homeFiles: { ".gemini/settings.json": JSON.stringify({ security: { auth: { selectedType: "gemini-api-key" } } }) },
      };
    },
  });
}

await writeFixtures(import.meta.url, GEMINI_FIXTURES, GEMINI_SCENARIOS, (_, name) => captureGeminiStream(name as keyof typeof GEMINI_SCENARIOS));
