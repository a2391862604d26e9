/**
 * The runner's configuration: one zod schema, parsed once at start-up.
 *
 * Values come from a YAML file (`--config <file>` or `CODEFORGE_RUNNER_CONFIG`) with
 * `CODEFORGE_*` environment variables on top, so a container can ship one file and still be
 * tuned per deployment. A bad value stops the runner before it leases anything, with a message
 * naming the field and the variable that sets it. The runner secret (or the pool's runner
 * credential that stands in for it) never appears in an error:
 * zod messages do not echo input values, and YAML syntax errors are reported by position only,
 * because the YAML library's own message quotes the offending line.
 *
 * `cli_env` holds secrets (the CLIs' API keys): per CLI, so each CLI gets only its own keys.
 * From the environment, `CODEFORGE_CLI_ENV_<CLI>_<NAME>=value` sets `cli_env.<cli>.<NAME>`
 * (for example `CODEFORGE_CLI_ENV_CLAUDE_ANTHROPIC_API_KEY`).
 * @module
 */
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import {
  CliName,
  EgressAllowList,
  MaxCostUsd,
  MaxTokens,
  MaxTurns,
  LEASE_WAIT_MAX_MS,
  OUTPUT_MAX_BYTES_DEFAULT,
  parseCidr,
  RunnerId,
  Slug,
  TaskEnv,
} from "#api/index.js";
import { parseRunnerCredential } from "#api/runner-credential.js";
import { booleanSetting, CommaList, numberSetting } from "#api/settings.js";
import { DEPENDENCY_CACHE_ENV_NAMES, DependencyCacheSettings } from "./config-dependency-cache.js";
import { REPO_CACHE_ENV_NAMES, RepoCacheSettings } from "./config-repo-cache.js";
import { ConfigError, mergeCliEnv, parseCommandLine, readConfigFile } from "./config-sources.js";
import { ModelPricesConfig } from "./sandbox/model-prices.js";
import { SETUP_ENV_NAMES, SETUP_SETTINGS } from "./setup-settings.js";

export { ConfigError } from "./config-sources.js";

/** YAML key → environment variable that overrides it. */
export const ENV_NAMES = {
  edge_url: "CODEFORGE_EDGE_URL",
  runner_secret: "CODEFORGE_RUNNER_SECRET",
  runner_credential: "CODEFORGE_RUNNER_CREDENTIAL",
  runner_id: "CODEFORGE_RUNNER_ID",
  pool: "CODEFORGE_POOL",
  labels: "CODEFORGE_LABELS",
  concurrency: "CODEFORGE_CONCURRENCY",
  workspace_root: "CODEFORGE_WORKSPACE_ROOT",
  local_mode: "CODEFORGE_LOCAL_MODE",
  allow_ssh: "CODEFORGE_ALLOW_SSH",
  git_allowed_networks: "CODEFORGE_GIT_ALLOWED_NETWORKS",
  kill_grace_ms: "CODEFORGE_KILL_GRACE_MS",
  shutdown_grace_ms: "CODEFORGE_SHUTDOWN_GRACE_MS",
  lease_wait_ms: "CODEFORGE_LEASE_WAIT_MS",
  output_max_bytes: "CODEFORGE_OUTPUT_MAX_BYTES",
  log_level: "CODEFORGE_LOG_LEVEL",
  log_format: "CODEFORGE_LOG_FORMAT",
  log_sample_ratio: "CODEFORGE_LOG_SAMPLE_RATIO",
  health_port: "CODEFORGE_HEALTH_PORT",
  health_host: "CODEFORGE_HEALTH_HOST",
  clis: "CODEFORGE_CLIS",
  script_command: "CODEFORGE_SCRIPT_COMMAND",
  script_args: "CODEFORGE_SCRIPT_ARGS",
  stall_timeout_seconds: "CODEFORGE_STALL_TIMEOUT_SECONDS",
  git_author_name: "CODEFORGE_GIT_AUTHOR_NAME",
  git_author_email: "CODEFORGE_GIT_AUTHOR_EMAIL",
  sandbox: "CODEFORGE_SANDBOX",
  sandbox_memory_mb: "CODEFORGE_SANDBOX_MEMORY_MB",
  sandbox_max_processes: "CODEFORGE_SANDBOX_MAX_PROCESSES",
  sandbox_cpus: "CODEFORGE_SANDBOX_CPUS",
  sandbox_disk_mb: "CODEFORGE_SANDBOX_DISK_MB",
  sandbox_cgroup_limits: "CODEFORGE_SANDBOX_CGROUP_LIMITS",
  egress_allow: "CODEFORGE_EGRESS_ALLOW",
  egress_allowed_networks: "CODEFORGE_EGRESS_ALLOWED_NETWORKS",
  default_max_cost_usd: "CODEFORGE_DEFAULT_MAX_COST_USD",
  default_max_tokens: "CODEFORGE_DEFAULT_MAX_TOKENS",
  default_max_turns: "CODEFORGE_DEFAULT_MAX_TURNS",
  model_prices: "CODEFORGE_MODEL_PRICES",
  once: "CODEFORGE_ONCE",
  idle_exit_seconds: "CODEFORGE_IDLE_EXIT_SECONDS",
  ...REPO_CACHE_ENV_NAMES,
  ...DEPENDENCY_CACHE_ENV_NAMES,
  ...SETUP_ENV_NAMES,
} as const;

export { CLI_ENV_PREFIX } from "./config-sources.js";
type ConfigKey = keyof typeof ENV_NAMES;

/** An integer from YAML (a number) or from the environment (text). */
function int(min: number, max: number) {
  return numberSetting(z.number({ error: "must be a whole number" }).int("must be a whole number").min(min).max(max));
}

/** A CIDR range such as `10.20.0.0/16` (a bare address is that one address). */
const cidrRange = z.string().transform((text, ctx) => {
  const parsed = parseCidr(text);
  if (parsed.ok) return parsed.range;
  ctx.addIssue({ code: "custom", message: `${JSON.stringify(text.slice(0, 60))}: ${parsed.reason}` });
  return z.NEVER;
});

/** Model prices: a mapping from YAML, or a JSON object from the environment. */
const modelPricesSetting = z.preprocess((v, ctx) => {
  if (typeof v !== "string") return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    ctx.addIssue({ code: "custom", message: 'must be a JSON object, e.g. {"gpt-5": {"input": 1.25, "output": 10}}' });
    return z.NEVER;
  }
}, ModelPricesConfig);

const MISSING_SECRET = "is required (or a runner_credential instead)";

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** A positive number from YAML or the environment (CPUs: `1.5`). */
const positiveNumber = numberSetting(z.number({ error: "must be a number" }).positive("must be more than 0").max(1_024));

export const RunnerConfig = z
  .strictObject({
    /** Base URL of the edge, e.g. `https://codeforge.example.com`. */
    edge_url: z
      .url({ protocol: /^https?$/, error: (issue) => (issue.input === undefined ? "is required" : "must be an http(s) URL") })
      .transform((u) => u.replace(/\/+$/, "")),
    /** HMAC key shared with the edge. Secret: never logged, never passed to CLIs. */
    runner_secret: z.string().min(16, "must be at least 16 characters").optional(),
    /**
     * Instead of the runner secret: a credential for this runner's pool only, minted by an
     * admin (`POST /api/v1/runner-credentials`), `<id>:<secret>`. Secret, as the runner secret.
     */
    runner_credential: z
      .string()
      .transform((text, ctx) => {
        const credential = parseRunnerCredential(text);
        if (credential) return credential;
        // Never the value: it is a secret.
        ctx.addIssue({ code: "custom", message: "must be a runner credential as POST /api/v1/runner-credentials mints it (<id>:<secret>)" });
        return z.NEVER;
      })
      .optional(),
    /** This runner's name in leases, logs and metrics. */
    runner_id: RunnerId,
    /** The pool whose tasks this runner serves. */
    pool: Slug.default("default"),
    /** Labels advertised when leasing; a task is offered only if it asks for a subset. */
    labels: CommaList.pipe(z.array(Slug).max(32)),
    /** Tasks run at the same time. */
    concurrency: int(1, 64).default(2),
    /** Where per-task workspaces are created. Removed after each task. */
    workspace_root: z
      .string()
      .min(1)
      .transform((p) => path.resolve(p)),
    /** Development only: accept `file://` repositories and plain-http edges. */
    local_mode: booleanSetting(false),
    /** Accept `ssh://` and `user@host:path` repositories. */
    allow_ssh: booleanSetting(false),
    /**
     * Non-public networks (CIDR) repository hosts may resolve to, for a git server on the
     * runner's own network; every other loopback, private or metadata address stays refused.
     */
    git_allowed_networks: CommaList.pipe(z.array(cidrRange)).default([]),
    /** Between SIGTERM and SIGKILL when a CLI is cancelled or times out. */
    kill_grace_ms: int(0, 600_000).default(5_000),
    /** On SIGTERM, how long running tasks may continue before they are stopped and handed back. */
    shutdown_grace_ms: int(0, 3_600_000).default(30_000),
    /** How long one lease request waits at the edge for work. */
    lease_wait_ms: int(0, LEASE_WAIT_MAX_MS).default(LEASE_WAIT_MAX_MS),
    /** Output bytes sent per task; beyond it output is dropped with a warning in the log. */
    output_max_bytes: int(1_024, 1 << 30).default(OUTPUT_MAX_BYTES_DEFAULT),
    log_level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    /** `json` (one object a line, for collectors) or `pretty` (one short line, for a terminal). */
    log_format: z.enum(["json", "pretty"]).default("json"),
    /** Share (0..1) of high-volume lines (lease polls, heartbeats, output batches) written; errors always are. */
    log_sample_ratio: numberSetting(z.number({ error: "must be a number from 0 to 1" }).min(0).max(1)).default(0.1),
    /** `/healthz` and `/readyz`; 0 turns the server off. */
    health_port: int(0, 65_535).default(9_464),
    health_host: z.string().min(1).default("0.0.0.0"),
    /** CLIs this runner may offer; each is still checked at start-up (default: every one installed). */
    clis: CommaList.pipe(z.array(CliName)).optional(),
    /** Per CLI, environment variables (API keys) for that CLI only. Secrets: masked in all output. */
    cli_env: z.partialRecord(CliName, TaskEnv).default({}),
    /** The program the `script` CLI runs (absolute path); unset: no `script` CLI. */
    script_command: z
      .string()
      .refine((p) => path.isAbsolute(p), "must be an absolute path")
      .optional(),
    /** Fixed arguments for `script_command`. */
    script_args: CommaList.default([]),
    /** Stop a CLI that prints nothing for this long, when the task sets no stall timeout of its own. Unset: off. */
    stall_timeout_seconds: int(10, 86_400).optional(),
    /** Author and committer name of the commits the runner pushes (`push: true` tasks). */
    git_author_name: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^\x00-\x1f\x7f<>]+$/, "must be a plain name, without '<', '>' or control characters")
      .default("CodeForge"),
    /** Author and committer email of those commits. */
    git_author_email: z
      .string()
      .max(254)
      .regex(/^[^\s<>@]+@[^\s<>@]+$/, "must look like name@host, without spaces, '<' or '>'")
      .default("codeforge@localhost"),
    /**
     * What each attempt's CLI runs in: `bubblewrap` (own namespaces, limits, egress only through
     * the runner's proxy; the default on Linux) or `none` (development machines without
     * namespaces: the CLI sees what the runner sees; every attempt warns).
     */
    sandbox: z.enum(["bubblewrap", "none"]).default(process.platform === "linux" ? "bubblewrap" : "none"),
    /** Memory of one attempt's sandbox, every process in it together. */
    sandbox_memory_mb: int(64, 1 << 20).default(4_096),
    /** Processes (and threads) one attempt's sandbox may have at once: stops fork bombs. */
    sandbox_max_processes: int(16, 1 << 20).default(1_024),
    /** CPUs one attempt may use (a hard quota); unset: no quota, attempts share the machine. */
    sandbox_cpus: positiveNumber.optional(),
    /** Bytes the checkout, HOME and TMPDIR of one attempt may hold together. */
    sandbox_disk_mb: int(16, 1 << 24).default(10_240),
    /** Enforce memory, process and CPU limits through cgroups; false where the container or pod already sets them (no cgroup delegation). */
    sandbox_cgroup_limits: booleanSetting(true),
    /**
     * Hosts the sandbox may reach through the egress proxy besides the CLI's model API and the
     * task's repository host (package registries, say): `host`, `*.domain`, optional `:port`.
     */
    egress_allow: CommaList.pipe(EgressAllowList).default([]),
    /** Non-public networks (CIDR) allowed hosts may resolve to; everything else non-public stays refused. */
    egress_allowed_networks: CommaList.pipe(z.array(cidrRange)).default([]),
    /**
     * The pool's budget for tasks that set none of their own (see the task's `max_cost_usd`,
     * `max_tokens`, `max_turns`): per iteration, enforced by the model gateway. Unset: no limit.
     */
    default_max_cost_usd: numberSetting(MaxCostUsd).optional(),
    default_max_tokens: numberSetting(MaxTokens).optional(),
    default_max_turns: numberSetting(MaxTurns).optional(),
    /**
     * Model prices (USD per million tokens: `input`, `output`, optional `cache_read`,
     * `cache_write`) by model name or prefix, laid over the model gateway's default table.
     */
    model_prices: modelPricesSetting.default({}),
    /** Run-once mode (`--once`): lease one task, run it to its end, report, exit 0 (for one pod per task). */
    once: booleanSetting(false),
    /** Exit 0 after this long with nothing leased and nothing running (`--idle-exit-seconds`). Unset: never. */
    idle_exit_seconds: int(1, 604_800).optional(),
    ...RepoCacheSettings,
    ...DependencyCacheSettings,
    ...SETUP_SETTINGS,
  })
  .superRefine((config, ctx) => {
    if (config.runner_secret === undefined && config.runner_credential === undefined) {
      ctx.addIssue({ code: "custom", path: ["runner_secret"], message: MISSING_SECRET });
    }
    if (config.runner_secret !== undefined && config.runner_credential !== undefined) {
      ctx.addIssue({ code: "custom", path: ["runner_credential"], message: "set either runner_credential or runner_secret, not both" });
    }
    const credential = config.runner_credential;
    if (credential && credential.pool !== config.pool) {
      ctx.addIssue({ code: "custom", path: ["pool"], message: `the runner credential is for pool "${credential.pool}", not "${config.pool}"` });
    }
    if (credential && credential.expiresAtSeconds * 1_000 <= Date.now()) {
      const at = new Date(credential.expiresAtSeconds * 1_000).toISOString();
      ctx.addIssue({ code: "custom", path: ["runner_credential"], message: `expired at ${at}; mint a new one` });
    }
    const url = new URL(config.edge_url);
    if (url.protocol === "http:" && !config.local_mode && !LOOPBACK_HOSTS.has(url.hostname)) {
      ctx.addIssue({
        code: "custom",
        path: ["edge_url"],
        message: "must use https (plain http is only accepted for loopback addresses or in local mode)",
      });
    }
  });
export type RunnerConfig = z.infer<typeof RunnerConfig>;

export interface LoadConfigOptions {
  /** Command-line arguments (without node and the script), for `--config <file>`. */
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  readFile: (file: string) => string;
  /** Defaults for `runner_id` and `workspace_root`; injectable for tests. */
  hostname?: string;
  /** Values used when neither the file nor the environment sets them (`--check` needs no edge). */
  defaults?: Record<string, unknown>;
  tmpdir?: string;
}

/**
 * Reads, merges and validates the configuration. Throws `ConfigError` listing every bad field.
 * @example
 * const config = loadConfig({ argv: process.argv.slice(2), env: process.env, readFile: (f) => readFileSync(f, "utf8") });
 */
export function loadConfig(options: LoadConfigOptions): RunnerConfig {
  const commandLine = parseCommandLine(options.argv);
  const file = commandLine.configFile ?? (options.env.CODEFORGE_RUNNER_CONFIG || undefined);
  const fromFile = file ? readConfigFile(file, options.readFile) : {};

  const merged: Record<string, unknown> = {
    runner_id: defaultRunnerId(options.hostname ?? os.hostname()),
    workspace_root: path.join(options.tmpdir ?? os.tmpdir(), "codeforge-workspaces"),
    labels: [],
    ...options.defaults,
    ...fromFile,
  };
  for (const [key, envName] of Object.entries(ENV_NAMES)) {
    const value = options.env[envName];
    if (value !== undefined && value !== "") merged[key] = value;
  }
  mergeCliEnv(merged, options.env);
  Object.assign(merged, commandLine.settings);
  if (merged.runner_credential !== undefined) {
    // A default secret (`--check`'s) gives way to a credential; the pool comes from it unless set.
    if (merged.runner_secret === options.defaults?.runner_secret) delete merged.runner_secret;
    if (merged.pool === undefined && typeof merged.runner_credential === "string") merged.pool = parseRunnerCredential(merged.runner_credential)?.pool;
  }

  const parsed = RunnerConfig.safeParse(merged);
  if (!parsed.success) {
    const issues: { path: PropertyKey[]; message: string }[] = [...parsed.error.issues];
    // The schema's own check of this runs only once every field parses: name it with the rest.
    if (merged.runner_secret === undefined && merged.runner_credential === undefined && !issues.some((i) => i.path[0] === "runner_secret")) {
      issues.push({ path: ["runner_secret"], message: MISSING_SECRET });
    }
    const lines = issues.map((issue) => {
      const key = String(issue.path[0] ?? "");
      const envName = ENV_NAMES[key as ConfigKey];
      const where = issue.path.join(".") || "(root)";
      return `  - ${where}${envName ? ` (${envName})` : ""}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid runner configuration${file ? ` (file ${file})` : ""}:\n${lines.join("\n")}`);
  }
  return parsed.data;
}

/** A runner id from the host name, reduced to the characters runner ids allow. */
export function defaultRunnerId(hostname: string): string {
  const cleaned = hostname
    .replace(/[^A-Za-z0-9._-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 64);
  return cleaned || "runner";
}

/** What the runner signs its requests with: its pool's credential when it has one, else the runner secret. */
export function signingKey(config: Pick<RunnerConfig, "runner_secret" | "runner_credential">): { secret: string; credentialId?: string } {
  if (config.runner_credential) return { secret: config.runner_credential.secret, credentialId: config.runner_credential.id };
  return { secret: config.runner_secret ?? "" };
}
