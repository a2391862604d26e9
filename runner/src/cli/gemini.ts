/**
 * The `gemini` adapter: Google's Gemini CLI in headless mode.
 *
 * Assumes the headless mode its reference documents: with stdin not a terminal, Gemini CLI
 * reads the prompt from stdin and runs without its interactive UI; `--output-format
 * stream-json` gives JSON-lines events (read by `gemini-stream-parser.ts`);
 * `--approval-mode yolo` applies tool calls without asking (nobody could answer); `--model
 * <m>`. No `-p`: the prompt stays off argv. Authentication is `GEMINI_API_KEY` from
 * `cli_env.gemini` or the task's `env`.
 * @module
 */
import { createGeminiStreamParser } from "../gemini-stream-parser.js";
import type { BinaryCliOptions, CliAdapter } from "./cli-adapter.js";
import { probeVersion } from "./version-probe.js";

/**
 * @example
 * const gemini = createGeminiAdapter({ pathEnv: process.env.PATH ?? "", env: config.cli_env.gemini });
 */
export function createGeminiAdapter(options: BinaryCliOptions): CliAdapter {
  const command = options.command ?? "gemini";
  return {
    name: "gemini",
    command({ prompt, model }) {
      const args = ["--output-format", "stream-json", "--approval-mode", "yolo"];
      if (model) args.push("--model", model);
      return { command, args, stdin: prompt };
    },
    env: () => ({ ...options.env }),
    createParser: () => createGeminiStreamParser(),
    isAvailable: async () => (await probeVersion({ command, pathEnv: options.pathEnv, timeoutMs: options.probeTimeoutMs })) !== null,
  };
}
