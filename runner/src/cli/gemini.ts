/**
 * The `gemini` adapter: Google's Gemini CLI in headless mode.
 *
 * Assumes the headless mode its reference documents: with stdin not a terminal, Gemini CLI
 * reads the prompt from stdin and runs without its interactive UI; `--output-format
 * stream-json` gives JSON-lines events (read by `gemini-stream-parser.ts`);
 * `--approval-mode yolo` applies every tool call without asking, with full autonomy (the
 * workspace is trusted through `GEMINI_CLI_TRUST_WORKSPACE`, or Gemini CLI refuses to run
 * headless in an untrusted folder), `--approval-mode auto_edit` for edits only; `--model <m>`. No `-p`: the prompt stays off argv. Authentication is `GEMINI_API_KEY` from
 * `cli_env.gemini` or the task's `env`.
 * @module
 */
import { createGeminiStreamParser } from "../gemini-stream-parser.js";
import type { BinaryCliOptions, CliAdapter } from "./cli-adapter.js";
import { probeVersion } from "./version-probe.js";
import { cliInstallation } from "../sandbox/cli-installation.js";
import { modelApiHosts } from "./model-api-hosts.js";


/**
 * @example
 * const gemini = createGeminiAdapter({ pathEnv: process.env.PATH ?? "", env: config.cli_env.gemini });
 */
export function createGeminiAdapter(options: BinaryCliOptions): CliAdapter {
  const command = options.command ?? "gemini";
  return {
    name: "gemini",
    command({ prompt, model, autonomy }) {
      const args = ["--output-format", "stream-json", "--approval-mode", autonomy === "full" ? "yolo" : "auto_edit"];
      if (model) args.push("--model", model);
      return { command, args, stdin: prompt, env: { GEMINI_CLI_TRUST_WORKSPACE: "true" } };
    },
    env: () => ({ ...options.env }),
    createParser: () => createGeminiStreamParser(),
    installation: () => cliInstallation(command, options.pathEnv),
    egressHosts: () => modelApiHosts(["generativelanguage.googleapis.com"], options.env, ["GOOGLE_GEMINI_BASE_URL"]),
    isAvailable: async () => (await probeVersion({ command, pathEnv: options.pathEnv, timeoutMs: options.probeTimeoutMs })) !== null,
  };
}
