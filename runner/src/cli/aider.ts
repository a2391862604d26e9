/**
 * The `aider` adapter: Aider in one-shot scripting mode.
 *
 * Assumes Aider's documented scripting flags: `--message-file <file>` (run that one
 * instruction and exit; aider reads no prompt from stdin), `--yes-always` (nobody is there to
 * confirm; for edits only also `--no-suggest-shell-commands`, so it proposes no commands to run), `--no-auto-commits` and `--no-dirty-commits` (the runner describes the changes
 * itself, against the commit it checked out), `--no-pretty` and `--no-stream` (plain text,
 * no terminal control codes), `--no-check-update`, `--no-show-release-notes`,
 * `--no-analytics`, `--no-gitignore` (do not add `.aider*` to the repository's
 * `.gitignore`), history files moved out of the checkout, and `--model <m>`. The prompt file
 * lives in the runner's scratch directory beside the checkout, so it is not part of the diff.
 * Output is plain text, streamed as it is; `aider-report-parser.ts` reads the run's cost from
 * the usage report Aider prints after each reply. Authentication is the
 * provider's usual variable (`ANTHROPIC_API_KEY`, `OPENAI_API_KEY`, …) from `cli_env.aider`
 * or the task's `env`.
 * @module
 */
import path from "node:path";
import { createAiderReportParser } from "../aider-report-parser.js";
import type { BinaryCliOptions, CliAdapter } from "./cli-adapter.js";
import { probeVersion } from "./version-probe.js";
import { cliInstallation } from "../sandbox/cli-installation.js";
import { modelApiHosts } from "./model-api-hosts.js";


/** Name of the prompt file in the scratch directory. */
export const AIDER_PROMPT_FILE = "aider-prompt.md";

/**
 * @example
 * const aider = createAiderAdapter({ pathEnv: process.env.PATH ?? "", env: config.cli_env.aider });
 */
export function createAiderAdapter(options: BinaryCliOptions): CliAdapter {
  const command = options.command ?? "aider";
  return {
    name: "aider",
    command({ prompt, model, scratchDir, autonomy }) {
      const args = [
        "--message-file", path.join(scratchDir, AIDER_PROMPT_FILE),
        "--yes-always",
        "--no-auto-commits",
        "--no-dirty-commits",
        "--no-pretty",
        "--no-stream",
        "--no-check-update",
        "--no-show-release-notes",
        "--no-analytics",
        "--no-gitignore",
        "--chat-history-file", path.join(scratchDir, "aider.chat.history.md"),
        "--input-history-file", path.join(scratchDir, "aider.input.history"),
      ];
      if (autonomy === "edits") args.push("--no-suggest-shell-commands");
      if (model) args.push("--model", model);
      return { command, args, files: { [AIDER_PROMPT_FILE]: prompt } };
    },
    env: () => ({ ...options.env }),
    createParser: () => createAiderReportParser(),
    installation: () => cliInstallation(command, options.pathEnv),
    egressHosts: () => modelApiHosts(["api.openai.com", "api.anthropic.com"], options.env, ["OPENAI_API_BASE", "ANTHROPIC_BASE_URL"]),
    isAvailable: async () => (await probeVersion({ command, pathEnv: options.pathEnv, timeoutMs: options.probeTimeoutMs })) !== null,
  };
}
