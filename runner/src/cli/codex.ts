/**
 * The `codex` adapter: OpenAI's Codex CLI in `exec` (non-interactive) mode.
 *
 * Assumes `codex exec` as its docs describe it: `--json` (JSON-lines events on stdout, read by
 * `codex-json-parser.ts`), `--color never`, `--skip-git-repo-check` (a detached checkout is
 * fine), and with full autonomy `--dangerously-bypass-approvals-and-sandbox` (the runner's
 * sandbox is the boundary; Codex's own would leave the agent unable to run what it needs, and
 * `exec` never asks for approval anyway), for edits only `--sandbox workspace-write` (writes
 * inside the checkout, commands sandboxed by Codex), `--model <m>`, and `-` as the prompt argument, which makes it read the prompt
 * from stdin. Authentication is `OPENAI_API_KEY` (or `CODEX_API_KEY`) from `cli_env.codex`
 * or the task's `env`; its state goes to `~/.codex`, which is the workspace's own `home/`.
 * @module
 */
import { createCodexJsonParser } from "../codex-json-parser.js";
import type { BinaryCliOptions, CliAdapter } from "./cli-adapter.js";
import { probeVersion } from "./version-probe.js";
import { cliInstallation } from "../sandbox/cli-installation.js";
import { modelApiHosts } from "./model-api-hosts.js";


/**
 * @example
 * const codex = createCodexAdapter({ pathEnv: process.env.PATH ?? "", env: config.cli_env.codex });
 */
export function createCodexAdapter(options: BinaryCliOptions): CliAdapter {
  const command = options.command ?? "codex";
  return {
    name: "codex",
    command({ prompt, model, autonomy }) {
      const mode = autonomy === "full" ? ["--dangerously-bypass-approvals-and-sandbox"] : ["--sandbox", "workspace-write"];
      const args = ["exec", "--json", "--color", "never", "--skip-git-repo-check", ...mode];
      if (model) args.push("--model", model);
      args.push("-");
      return { command, args, stdin: prompt };
    },
    env: () => ({ ...options.env }),
    createParser: () => createCodexJsonParser(),
    installation: () => cliInstallation(command, options.pathEnv),
    egressHosts: () => modelApiHosts(["api.openai.com"], options.env, ["OPENAI_BASE_URL"]),
    isAvailable: async () => (await probeVersion({ command, pathEnv: options.pathEnv, timeoutMs: options.probeTimeoutMs })) !== null,
  };
}
