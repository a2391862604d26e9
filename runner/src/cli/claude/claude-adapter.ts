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
 * `ANTHROPIC_API_KEY` (or `ANTHROPIC_AUTH_TOKEN`), from the runner's `cli_env.claude` or the
 * task's `env`; in a sandbox the key stays with the runner's model gateway, and Claude Code gets
 * the gateway's URL as `ANTHROPIC_BASE_URL` and a placeholder as its key. The operator's key
 * (from `cli_env`) goes only to the operator's endpoint; a task's `env` that brings its own key
 * may name its own `ANTHROPIC_BASE_URL`.
 * @module
 */
import { createClaudeStreamParser } from "./claude-stream-parser.js";
import { isRecord } from "../json-lines-parser.js";
import type { BinaryCliOptions, CliAdapter, CliSessionSupport } from "../cli-adapter.js";
import { probeVersion } from "../version-probe.js";
import { cliInstallation } from "../../sandbox/cli-installation.js";
import { modelApiHosts } from "../model-api-hosts.js";

/**
 * Claude Code's sessions: `~/.claude/projects/<cwd>/<id>.jsonl` (and `<id>/` beside it), named
 * by the `system/init` line; `--resume <id>` continues one, found under any cwd.
 */
export const CLAUDE_SESSIONS: CliSessionSupport = {
  paths: () => [".claude/projects"],
  idFrom: (json) => (isRecord(json) && json.type === "system" && json.subtype === "init" && typeof json.session_id === "string" ? json.session_id : null),
  resumeArgs: (args, id) => [...args, "--resume", id],
};

/**
 * @example
 * const claude = createClaudeAdapter({ pathEnv: process.env.PATH ?? "", env: config.cli_env.claude });
 */
export function createClaudeAdapter(options: BinaryCliOptions): CliAdapter {
  const command = options.command ?? "claude";
  return {
    name: "claude",
    command({ prompt, model, autonomy, maxTurns }) {
      const permissionMode = autonomy === "full" ? "bypassPermissions" : "acceptEdits";
      const args = ["-p", "--output-format", "stream-json", "--verbose", "--permission-mode", permissionMode];
      if (model) args.push("--model", model);
      if (maxTurns) args.push("--max-turns", String(maxTurns));
      return { command, args, stdin: prompt };
    },
    env: () => ({ ...options.env }),
    createParser: () => createClaudeStreamParser(),
    installation: () => cliInstallation(command, options.pathEnv),
    egressHosts: () => modelApiHosts(["api.anthropic.com"], options.env, ["ANTHROPIC_BASE_URL"]),
    modelGateway: (env) => {
      // ANTHROPIC_API_KEY goes as x-api-key; ANTHROPIC_AUTH_TOKEN (a bearer token) when there is no key.
      const apiKey = env.ANTHROPIC_API_KEY;
      const key = apiKey ?? env.ANTHROPIC_AUTH_TOKEN;
      if (!key) return null;
      const variable = apiKey ? "ANTHROPIC_API_KEY" : "ANTHROPIC_AUTH_TOKEN";
      // The operator's key goes only to the operator's endpoint: a task's env may bring its own
      // key (and then its own endpoint), never send the operator's somewhere else.
      const operatorsKey = key === options.env?.[variable];
      const baseUrl = (operatorsKey ? options.env?.ANTHROPIC_BASE_URL : env.ANTHROPIC_BASE_URL) || "https://api.anthropic.com";
      return {
        upstream: { baseUrl, header: apiKey ? "x-api-key" : "authorization", key },
        hide: ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"],
        env: (gatewayUrl, placeholder) => ({ ANTHROPIC_BASE_URL: gatewayUrl, [variable]: placeholder }),
      };
    },
    session: CLAUDE_SESSIONS,
    isAvailable: async () => (await probeVersion({ command, pathEnv: options.pathEnv, timeoutMs: options.probeTimeoutMs })) !== null,
  };
}
