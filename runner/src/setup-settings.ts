/**
 * The runner pool's settings for tasks' setup (`attempt/setup.ts`): the default commands, the
 * setup's time limit, the hosts it may reach, and whether a repository may bring its own setup
 * script. Part of `RunnerConfig` (`config.ts` spreads them in), kept here so the setup's
 * defaults — the package registries reachable while setting up — are read in one place.
 * @module
 */
import { z } from "zod";
import { EgressAllowList, SetupCommands } from "#api/index.js";
import { booleanSetting, CommaList, numberSetting } from "#api/settings.js";

/**
 * Hosts reachable while setting up unless the operator says otherwise: the public registries
 * of the common package managers (npm and Yarn, PyPI, crates.io, the Go module proxy and
 * checksum database, RubyGems). Their files only: the registries' web sites are the same hosts.
 */
export const DEFAULT_SETUP_EGRESS_ALLOW: readonly string[] = [
  "registry.npmjs.org",
  "registry.yarnpkg.com",
  "pypi.org",
  "files.pythonhosted.org",
  "crates.io",
  "index.crates.io",
  "static.crates.io",
  "proxy.golang.org",
  "sum.golang.org",
  "rubygems.org",
  "index.rubygems.org",
];

/** Commands from YAML (a list) or the environment (a JSON array of strings). */
const setupCommands = z.preprocess((value, ctx) => {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    ctx.addIssue({ code: "custom", message: 'must be a JSON array of commands, e.g. ["npm ci"]' });
    return z.NEVER;
  }
}, SetupCommands);

export const SETUP_SETTINGS = {
  /** Setup commands for tasks that give none of their own (`setup`); each runs as `sh -c` in the checkout. */
  setup_commands: setupCommands.default([]),
  /** The longest a task's setup may take, all its commands together (never past the task's own timeout). */
  setup_timeout_seconds: numberSetting(z.number({ error: "must be a whole number" }).int("must be a whole number").min(1).max(86_400)).default(600),
  /** Hosts a setup may reach (besides the repository's host); model APIs never. */
  setup_egress_allow: CommaList.pipe(EgressAllowList).default([...DEFAULT_SETUP_EGRESS_ALLOW]),
  /** Run the repository's `.codeforge/setup.sh` for tasks that give no setup (the repository's code then runs before the CLI). */
  setup_repository_script: booleanSetting(false),
};

export const SETUP_ENV_NAMES = {
  setup_commands: "CODEFORGE_SETUP_COMMANDS",
  setup_timeout_seconds: "CODEFORGE_SETUP_TIMEOUT_SECONDS",
  setup_egress_allow: "CODEFORGE_SETUP_EGRESS_ALLOW",
  setup_repository_script: "CODEFORGE_SETUP_REPOSITORY_SCRIPT",
} as const;
