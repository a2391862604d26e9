/**
 * The environment and `-c` settings every git process of the runner starts with.
 *
 * Git is pointed at repositories named by users, so it runs with: a clean environment (no
 * runner secrets, no system or user config, never a terminal prompt), only the transports
 * policy allows — twice over, `protocol.allow=never` plus one `protocol.<name>.allow` per
 * transport and `GIT_ALLOW_PROTOCOL` with the same list (`https`, plus `file` in local mode and
 * `ssh` when enabled), so `ext::` and friends stay shut even if a URL check were bypassed —
 * no redirects (a redirect is a second, unchecked URL), no submodules (each is another URL
 * the task chose), symlinks checked out as plain files (a link to `/etc/passwd` or `~/.ssh`
 * in the repository cannot lead the CLI out of its workspace), and — for commands run inside
 * a checkout the CLI has had its hands on — no fsmonitor command and no hooks.
 * @module
 */
import type { CidrRange } from "#api/index.js";

export interface GitPolicy {
  /** Accept `file://` remotes (local mode). */
  allowFile: boolean;
  /** Accept `ssh` remotes. */
  allowSsh: boolean;
  /**
   * Non-public networks repository hosts may resolve to anyway (a git server on the runner's
   * private network); none by default. See `repo-host-check.ts`.
   */
  allowedNetworks?: readonly CidrRange[];
  /**
   * A CA bundle that `https` repository hosts are checked against instead of the system's: a git
   * server with a CA of its own (the tests' loopback server). Unset: the system's CAs.
   */
  caFile?: string;
}

/** The transports `policy` allows, in git's names. */
export function allowedProtocols(policy: GitPolicy): string[] {
  return ["https", ...(policy.allowSsh ? ["ssh"] : []), ...(policy.allowFile ? ["file"] : [])];
}

/** `-c` settings (without the `-c`) that restrict the transports git may use (and name the CAs `https` trusts, when set). */
export function protocolConfig(policy: GitPolicy): string[] {
  const ca = policy.caFile ? [`http.sslCAInfo=${policy.caFile}`] : [];
  return ["protocol.allow=never", ...allowedProtocols(policy).map((name) => `protocol.${name}.allow=always`), ...ca];
}

/** `-c` settings for fetching a task's repository (on top of `protocolConfig`). */
export const FETCH_SAFETY_CONFIG = [
  "http.followRedirects=false",
  "core.symlinks=false",
  "submodule.recurse=false",
  "fetch.recurseSubmodules=false",
  "core.fsmonitor=false",
  "core.hooksPath=/dev/null",
] as const;

/** Written into the clone's own `.git/config`, so later git commands (the CLI's too) keep it. */
export const CLONE_REPO_CONFIG = ["core.symlinks=false"] as const;

/** Settings for git commands run in a checkout whose `.git/config` the CLI could have edited. */
export const CHECKOUT_SAFETY_CONFIG = ["core.fsmonitor=false", "core.hooksPath=/dev/null"] as const;

/** Environment added for those commands: `HOME` is shared with the CLI, so its `~/.gitconfig` is ignored. */
export const CHECKOUT_SAFETY_ENV = { GIT_CONFIG_GLOBAL: "/dev/null" } as const;

/** The whole environment of a git process: nothing is inherited from the runner. */
export function gitEnv(options: { path: string; homeDir: string; policy?: GitPolicy }): Record<string, string> {
  return {
    PATH: options.path,
    HOME: options.homeDir,
    LANG: "C",
    LC_ALL: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_ALLOW_PROTOCOL: allowedProtocols(options.policy ?? { allowFile: false, allowSsh: false }).join(":"),
  };
}
