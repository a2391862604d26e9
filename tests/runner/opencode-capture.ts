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
import { createOpencodeAdapter } from "../../runner/src/cli/opencode/opencode-adapter.js";
import { startFakeAnthropic, type FakeAnthropicOptions, type ScriptStep } from "../support/fake-anthropic.js";
import { captureCli, fixturesDir, pinnedVersion, writeFixtures, type Captured } from "./harness/cli-capture.js";

export const OPENCODE_VERSION = pinnedVersion("opencode-ai");
export const OPENCODE_FIXTURES = fixturesDir("opencode", OPENCODE_VERSION);

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
export async function captureOpencodeJson(scenario: OpencodeScenario, timeoutMs = 90_000): Promise<Captured> {
  return captureCli({
    api: await startFakeAnthropic(scenario.script, scenario.api),
    repo: true,
    timeoutMs,
    launch: ({ home, apiUrl }) => {
      const command = createOpencodeAdapter({ pathEnv: "" }).command({
        prompt: "Read the file",
        model: "anthropic/claude-sonnet-4-5",
        scratchDir: home,
        autonomy: scenario.autonomy,
      });
      const config = { autoupdate: false, share: "disabled", provider: { anthropic: { options: { baseURL: `${apiUrl}/v1` } } } };
      return {
        command: "opencode",
        args: command.args,
        env: { ANTHROPIC_API_KEY: "sk-ant-fake", OPENCODE_CONFIG_CONTENT: JSON.stringify(config), OPENCODE_DISABLE_MODELS_FETCH: "1" },
        stdin: command.stdin,
      };
    },
  });
}

await writeFixtures(import.meta.url, OPENCODE_FIXTURES, OPENCODE_SCENARIOS, (scenario) => captureOpencodeJson(scenario));
