/**
 * The environment and `-c` settings every git process of the runner starts with.
 *
 * Git is pointed at repositories named by users, so it runs with: a clean environment (no
 * runner secrets, no system or user config, never a terminal prompt), only the transports
 * policy allows (`protocol.allow=never` then `https`, plus `file` in local mode and `ssh`
 * when enabled, so `ext::` and friends stay shut even if a URL check were bypassed), and —
 * for commands run inside a checkout the CLI has had its hands on — no fsmonitor command.
 * @module
 */

export interface GitPolicy {
  /** Accept `file://` remotes (local mode). */
  allowFile: boolean;
  /** Accept `ssh` remotes. */
  allowSsh: boolean;
}

/** `-c` settings (without the `-c`) that restrict the transports git may use. */
export function protocolConfig(policy: GitPolicy): string[] {
  const config = ["protocol.allow=never", "protocol.https.allow=always"];
  if (policy.allowFile) config.push("protocol.file.allow=always");
  if (policy.allowSsh) config.push("protocol.ssh.allow=always");
  return config;
}

/** Settings for git commands run in a checkout whose `.git/config` the CLI could have edited. */
export const CHECKOUT_SAFETY_CONFIG = ["core.fsmonitor=false", "core.hooksPath=/dev/null"] as const;

/** Environment added for those commands: `HOME` is shared with the CLI, so its `~/.gitconfig` is ignored. */
export const CHECKOUT_SAFETY_ENV = { GIT_CONFIG_GLOBAL: "/dev/null" } as const;

/** The whole environment of a git process: nothing is inherited from the runner. */
export function gitEnv(options: { path: string; homeDir: string }): Record<string, string> {
  return {
    PATH: options.path,
    HOME: options.homeDir,
    LANG: "C",
    LC_ALL: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
  };
}

/** Git variables simple-git must be told we set on purpose (its guard rejects `GIT_*` otherwise). */
export const GIT_ENV_ALLOWED = ["GIT_TERMINAL_PROMPT", "GIT_CONFIG_NOSYSTEM"] as const;
