/**
 * The `opencode` adapter: opencode's non-interactive `run` command.
 *
 * Assumes `opencode run` as its CLI reference and `cli/cmd/run.ts` describe it: `--format json`
 * (JSON-lines events, read by `opencode-json-parser.ts`), `--model <provider/model>`, `--auto`
 * with full autonomy (approves its permission requests; without it a request is rejected and the
 * run stops), and the
 * message taken from stdin when stdin is not a terminal (no message argument, so the prompt
 * stays off argv). Authentication is the provider's variable (`ANTHROPIC_API_KEY`,
 * `OPENAI_API_KEY`, …) from `cli_env.opencode` or the task's `env`.
 * @module
 */
import { createOpencodeJsonParser } from "../opencode-json-parser.js";
import type { BinaryCliOptions, CliAdapter } from "./cli-adapter.js";
import { probeVersion } from "./version-probe.js";
import { cliInstallation } from "../sandbox/cli-installation.js";
import { modelApiHosts } from "./model-api-hosts.js";


/**
 * @example
 * const opencode = createOpencodeAdapter({ pathEnv: process.env.PATH ?? "", env: config.cli_env.opencode });
 */
export function createOpencodeAdapter(options: BinaryCliOptions): CliAdapter {
  const command = options.command ?? "opencode";
  return {
    name: "opencode",
    command({ prompt, model, autonomy }) {
      const args = ["run", "--format", "json"];
      if (autonomy === "full") args.push("--auto");
      if (model) args.push("--model", model);
      return { command, args, stdin: prompt };
    },
    env: () => ({ ...options.env }),
    createParser: () => createOpencodeJsonParser(),
    installation: () => cliInstallation(command, options.pathEnv),
    egressHosts: () => modelApiHosts(["api.anthropic.com", "api.openai.com"], options.env, ["ANTHROPIC_BASE_URL", "OPENAI_BASE_URL"]),
    isAvailable: async () => (await probeVersion({ command, pathEnv: options.pathEnv, timeoutMs: options.probeTimeoutMs })) !== null,
  };
}
