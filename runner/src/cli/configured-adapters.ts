/**
 * Every CLI adapter the runner's configuration asks for, built with its settings.
 *
 * The registry then keeps the ones that pass their availability check. `script` exists only
 * when `script_command` is set; `clis` narrows the list (an operator can keep a runner to
 * one CLI even when several are installed).
 * @module
 */
import type { CliName } from "#api/index.js";
import type { RunnerConfig } from "../config.js";
import { createAiderAdapter } from "./aider/aider-adapter.js";
import type { CliAdapter } from "./cli-adapter.js";
import { createClaudeAdapter } from "./claude/claude-adapter.js";
import { createCodexAdapter } from "./codex/codex-adapter.js";
import { createDemoAdapter } from "./demo/demo-adapter.js";
import { createGeminiAdapter } from "./gemini/gemini-adapter.js";
import { createOpencodeAdapter } from "./opencode/opencode-adapter.js";
import { createScriptAdapter } from "./script/script-adapter.js";

/**
 * @example
 * const registry = await createCliRegistry(configuredAdapters(config, process.env.PATH ?? ""));
 */
export function configuredAdapters(config: Pick<RunnerConfig, "clis" | "cli_env" | "script_command" | "script_args">, pathEnv: string): CliAdapter[] {
  const env = (name: CliName) => config.cli_env[name] ?? {};
  const adapters: CliAdapter[] = [
    createDemoAdapter(),
    createClaudeAdapter({ pathEnv, env: env("claude") }),
    createAiderAdapter({ pathEnv, env: env("aider") }),
    createCodexAdapter({ pathEnv, env: env("codex") }),
    createGeminiAdapter({ pathEnv, env: env("gemini") }),
    createOpencodeAdapter({ pathEnv, env: env("opencode") }),
  ];
  if (config.script_command) adapters.push(createScriptAdapter({ command: config.script_command, args: config.script_args, env: env("script") }));
  return config.clis ? adapters.filter((adapter) => config.clis!.includes(adapter.name)) : adapters;
}
