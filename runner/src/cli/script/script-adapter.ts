/**
 * The `script` adapter: a fixed local program named in the runner's configuration.
 *
 * For demos, tests and in-house tools: the operator names one executable (`script_command`,
 * with fixed `script_args`); a task can choose neither, only send the prompt, which goes to
 * its stdin. `--model <m>` is appended when a task names a model. Output is plain text. It is
 * available when the configured file exists and is executable — it need not know
 * `--version`.
 * @module
 */
import { access, constants } from "node:fs/promises";
import type { CliAdapter } from "../cli-adapter.js";

export interface ScriptCliOptions {
  /** Absolute path of the program. */
  command: string;
  args?: readonly string[];
  /** The runner configuration's `cli_env.script`. */
  env?: Record<string, string>;
}

/**
 * @example
 * const script = createScriptAdapter({ command: "/opt/tools/fix-lint", args: ["--write"] });
 */
export function createScriptAdapter(options: ScriptCliOptions): CliAdapter {
  return {
    name: "script",
    command({ prompt, model }) {
      const args = [...(options.args ?? [])];
      if (model) args.push("--model", model);
      return { command: options.command, args, stdin: prompt };
    },
    env: () => ({ ...options.env }),
    createParser: () => null,
    // The program file alone: a script that needs files beside it names a directory instead.
    installation: async () => [options.command],
    egressHosts: () => [],
    async isAvailable() {
      try {
        await access(options.command, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    },
  };
}
