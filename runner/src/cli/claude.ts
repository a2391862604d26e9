/**
 * The `claude` adapter: Anthropic's Claude Code in print mode.
 *
 * Assumes Claude Code's documented non-interactive flags: `claude -p --output-format
 * stream-json --verbose` (stream-json needs `--verbose` in print mode), `--model <m>`, and a
 * permission mode nobody has to answer: `bypassPermissions` with full autonomy (inside the
 * sandbox it may run the tests, install dependencies, anything), `acceptEdits` when the task
 * asks for edits only (then every shell command that needs approval is refused). The prompt
 * goes on stdin (print mode reads it when no prompt argument is given).
 * Output is stream-json, read by `claude-stream-parser.ts`. Authentication is
 * `ANTHROPIC_API_KEY`, from the runner's `cli_env.claude` or the task's `env`.
 * @module
 */
import { createClaudeStreamParser } from "../claude-stream-parser.js";
import type { BinaryCliOptions, CliAdapter } from "./cli-adapter.js";
import { probeVersion } from "./version-probe.js";
import { cliInstallation } from "../sandbox/cli-installation.js";
import { modelApiHosts } from "./model-api-hosts.js";


/**
 * @example
 * const claude = createClaudeAdapter({ pathEnv: process.env.PATH ?? "", env: config.cli_env.claude });
 */
export function createClaudeAdapter(options: BinaryCliOptions): CliAdapter {
  const command = options.command ?? "claude";
  return {
    name: "claude",
    command({ prompt, model, autonomy }) {
      const permissionMode = autonomy === "full" ? "bypassPermissions" : "acceptEdits";
      const args = ["-p", "--output-format", "stream-json", "--verbose", "--permission-mode", permissionMode];
      if (model) args.push("--model", model);
      return { command, args, stdin: prompt };
    },
    env: () => ({ ...options.env }),
    createParser: () => createClaudeStreamParser(),
    installation: () => cliInstallation(command, options.pathEnv),
    egressHosts: () => modelApiHosts(["api.anthropic.com"], options.env, ["ANTHROPIC_BASE_URL"]),
    isAvailable: async () => (await probeVersion({ command, pathEnv: options.pathEnv, timeoutMs: options.probeTimeoutMs })) !== null,
  };
}
