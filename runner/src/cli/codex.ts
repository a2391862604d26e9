/**
 * The `codex` adapter: OpenAI's Codex CLI in `exec` (non-interactive) mode.
 *
 * Assumes `codex exec` as its docs describe it: `--json` (JSON-lines events on stdout, read by
 * `codex-json-parser.ts`), `--color never`, `--skip-git-repo-check` (a detached checkout is
 * fine), `--sandbox workspace-write` (writes inside the checkout only; `exec` never asks for
 * approval), `--model <m>`, and `-` as the prompt argument, which makes it read the prompt
 * from stdin. Authentication is `OPENAI_API_KEY` (or `CODEX_API_KEY`) from `cli_env.codex`
 * or the task's `env`; its state goes to `~/.codex`, which is the workspace's own `home/`.
 * @module
 */
import { createCodexJsonParser } from "../codex-json-parser.js";
import type { BinaryCliOptions, CliAdapter } from "./cli-adapter.js";
import { probeVersion } from "./version-probe.js";

/**
 * @example
 * const codex = createCodexAdapter({ pathEnv: process.env.PATH ?? "", env: config.cli_env.codex });
 */
export function createCodexAdapter(options: BinaryCliOptions): CliAdapter {
  const command = options.command ?? "codex";
  return {
    name: "codex",
    command({ prompt, model }) {
      const args = ["exec", "--json", "--color", "never", "--skip-git-repo-check", "--sandbox", "workspace-write"];
      if (model) args.push("--model", model);
      args.push("-");
      return { command, args, stdin: prompt };
    },
    env: () => ({ ...options.env }),
    createParser: () => createCodexJsonParser(),
    isAvailable: async () => (await probeVersion({ command, pathEnv: options.pathEnv, timeoutMs: options.probeTimeoutMs })) !== null,
  };
}
