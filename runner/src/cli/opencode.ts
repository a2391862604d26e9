/**
 * The `opencode` adapter: opencode's non-interactive `run` command.
 *
 * Assumes `opencode run` as its CLI reference and `cli/cmd/run.ts` describe it: `--format json`
 * (JSON-lines events, read by `opencode-json-parser.ts`), `--model <provider/model>`, and the
 * message taken from stdin when stdin is not a terminal (no message argument, so the prompt
 * stays off argv). Authentication is the provider's variable (`ANTHROPIC_API_KEY`,
 * `OPENAI_API_KEY`, …) from `cli_env.opencode` or the task's `env`.
 * @module
 */
import { createOpencodeJsonParser } from "../opencode-json-parser.js";
import type { BinaryCliOptions, CliAdapter } from "./cli-adapter.js";
import { probeVersion } from "./version-probe.js";

/**
 * @example
 * const opencode = createOpencodeAdapter({ pathEnv: process.env.PATH ?? "", env: config.cli_env.opencode });
 */
export function createOpencodeAdapter(options: BinaryCliOptions): CliAdapter {
  const command = options.command ?? "opencode";
  return {
    name: "opencode",
    command({ prompt, model }) {
      const args = ["run", "--format", "json"];
      if (model) args.push("--model", model);
      return { command, args, stdin: prompt };
    },
    env: () => ({ ...options.env }),
    createParser: () => createOpencodeJsonParser(),
    isAvailable: async () => (await probeVersion({ command, pathEnv: options.pathEnv, timeoutMs: options.probeTimeoutMs })) !== null,
  };
}
