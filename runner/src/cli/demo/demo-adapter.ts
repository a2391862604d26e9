/**
 * The `demo` CLI adapter: the offline stand-in for Claude Code in `runner/bin/demo-cli.mjs`.
 *
 * It is called exactly as Claude Code is for a non-interactive run (`-p --output-format
 * stream-json --verbose [--model <m>]`, the prompt on stdin) and its output is read with the same
 * stream-json parser, so the whole pipeline is exercised without a model or network. It keeps
 * and resumes its sessions as Claude Code does (`CLAUDE_SESSIONS`), so follow-ups resume it too. It runs
 * on the runner's own `node` binary, so it is available wherever the runner is.
 * @module
 */
import { access } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { createClaudeStreamParser } from "../claude/claude-stream-parser.js";
import { nodeRuntimePaths } from "../../sandbox/cli-installation.js";
import type { CliAdapter } from "../cli-adapter.js";
import { CLAUDE_SESSIONS } from "../claude/claude-adapter.js";

/** Path of the demo CLI script, resolved from this module so it works from any cwd. */
export const DEMO_CLI_PATH = fileURLToPath(new URL("../../../bin/demo-cli.mjs", import.meta.url));

/**
 * @example
 * const registry = createCliRegistry([createDemoAdapter()]);
 */
export function createDemoAdapter(options: { nodePath?: string; scriptPath?: string } = {}): CliAdapter {
  const nodePath = options.nodePath ?? process.execPath;
  const scriptPath = options.scriptPath ?? DEMO_CLI_PATH;
  return {
    name: "demo",
    command({ prompt, model }) {
      const args = [scriptPath, "-p", "--output-format", "stream-json", "--verbose"];
      if (model) args.push("--model", model);
      return { command: nodePath, args, stdin: prompt };
    },
    env: () => ({}),
    createParser: () => createClaudeStreamParser(),
    installation: async () => [scriptPath, ...nodeRuntimePaths(nodePath)],
    egressHosts: () => [],
    session: CLAUDE_SESSIONS,
    async isAvailable() {
      try {
        await access(scriptPath);
        await access(nodePath);
        return true;
      } catch {
        return false;
      }
    },
  };
}
