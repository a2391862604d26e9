/**
 * The runner settings `npm start` passes on from its own environment: every `CODEFORGE_*`
 * variable the runner reads (`runner/src/config.ts`), its configuration file
 * (`CODEFORGE_RUNNER_CONFIG`) and every `CODEFORGE_CLI_ENV_<CLI>_<NAME>` (a CLI's API key, say),
 * except the few the local stack sets itself — where the edge is, the runner's secret (and so no
 * runner credential), name and workspace, and local mode — so that a real CLI can be tried locally with
 * `CODEFORGE_CLIS=claude CODEFORGE_CLI_ENV_CLAUDE_ANTHROPIC_API_KEY=… npm start`.
 * @module
 */
import { CLI_ENV_PREFIX, ENV_NAMES } from "../runner/src/config.js";

/** The runner's configuration file, read under this name besides `--config`. */
export const RUNNER_CONFIG_FILE_ENV = "CODEFORGE_RUNNER_CONFIG";

/** Set by the local stack for its runner, whatever the caller's environment says. */
export const LOCAL_STACK_OWN: ReadonlySet<string> = new Set([
  ENV_NAMES.edge_url,
  ENV_NAMES.runner_secret,
  // The local stack signs with its own runner secret; a credential beside it would be refused.
  ENV_NAMES.runner_credential,
  ENV_NAMES.runner_id,
  ENV_NAMES.workspace_root,
  ENV_NAMES.local_mode,
]);
const RUNNER_SETTINGS: ReadonlySet<string> = new Set([...Object.values(ENV_NAMES), RUNNER_CONFIG_FILE_ENV]);

/**
 * @example
 * callerRunnerSettings({ CODEFORGE_CLIS: "claude", CODEFORGE_CLI_ENV_CLAUDE_ANTHROPIC_API_KEY: "sk-…", HOME: "/root" });
 * // { CODEFORGE_CLIS: "claude", CODEFORGE_CLI_ENV_CLAUDE_ANTHROPIC_API_KEY: "sk-…" }
 */
export function callerRunnerSettings(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined && !LOCAL_STACK_OWN.has(entry[0]) && (RUNNER_SETTINGS.has(entry[0]) || entry[0].startsWith(CLI_ENV_PREFIX)),
    ),
  );
}
