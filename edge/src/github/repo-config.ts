/**
 * A repository's `.codeforge.yml` (on its default branch) and the App-wide defaults
 * (`GITHUB_DEFAULTS`, JSON with the same keys): which CLI, model and budget a task started from
 * GitHub gets, the trigger phrase and label, and who may trigger.
 *
 * The task fields reuse the task request's own schemas, so a file can never ask for more than
 * the API allows. Only people who can push to the default branch can change the file, and
 * nothing in an issue or comment can: the file is read from the repository, never from a
 * delivery.
 * @module
 */
import { parse } from "yaml";
import { z } from "zod";
import { CliName, CreateTaskRequest, MaxCostUsd, MaxTurns, Slug, TaskAutonomy } from "#api/task-request.js";

/** A configuration file is a few lines; this bounds what is parsed and cached per installation. */
export const REPO_CONFIG_MAX_BYTES = 65_536;
/** Listing more people than this is what repository permissions are for. */
export const ALLOWED_USERS_MAX = 100;

/** Repository roles, as GitHub's collaborator permission API names them, weakest last. */
export const RepoRole = z.enum(["admin", "maintain", "write", "triage", "read", "none"]);
export type RepoRole = z.infer<typeof RepoRole>;

/** The weakest role that may start or steer a task: never less than write. */
export const MinPermission = z.enum(["write", "maintain", "admin"]);
export type MinPermission = z.infer<typeof MinPermission>;

/** A GitHub login: letters, digits and single hyphens, at most 39 characters. */
const GitHubLogin = z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/, "is not a GitHub login");

export const RepoConfig = z.strictObject({
  cli: CliName.optional(),
  model: CreateTaskRequest.shape.model,
  max_cost_usd: MaxCostUsd.optional(),
  max_turns: MaxTurns.optional(),
  timeout_seconds: CreateTaskRequest.shape.timeout_seconds.unwrap().optional(),
  pool: Slug.optional(),
  autonomy: TaskAutonomy.optional(),
  /** The phrase a comment must hold: `@name` or a plain word, matched as a whole word in any case. */
  trigger: z
    .string()
    .max(40)
    .regex(/^@?[A-Za-z0-9][A-Za-z0-9_-]*$/, "must be @name or a single word (letters, digits, '_' or '-')")
    .optional(),
  /** The label whose adding starts a task (GitHub label names are at most 50 characters). */
  label: z.string().trim().min(1).max(50).optional(),
  min_permission: MinPermission.optional(),
  /** When set, only these logins may trigger (and still need `min_permission`). */
  allowed_users: z.array(GitHubLogin).max(ALLOWED_USERS_MAX).optional(),
});
export type RepoConfig = z.infer<typeof RepoConfig>;

/** Every setting decided: the file over the App's defaults over CodeForge's own. */
export interface ResolvedRepoConfig {
  cli: CliName;
  model: string | null;
  max_cost_usd: number | null;
  max_turns: number | null;
  timeout_seconds: number;
  pool: string;
  autonomy: TaskAutonomy;
  trigger: string;
  label: string;
  min_permission: MinPermission;
  /** Null: anyone with `min_permission`. */
  allowed_users: string[] | null;
}

export const BUILT_IN_DEFAULTS: ResolvedRepoConfig = {
  cli: "claude",
  model: null,
  max_cost_usd: null,
  max_turns: null,
  timeout_seconds: 1_800,
  pool: "default",
  autonomy: "full",
  trigger: "@codeforge",
  label: "codeforge",
  min_permission: "write",
  allowed_users: null,
};

export type ConfigOutcome = { ok: true; config: RepoConfig } | { ok: false; problem: string };

/**
 * Parses a `.codeforge.yml`. An empty file is an empty configuration; anything else must be a
 * mapping of the known keys, and the problem names the key at fault.
 * @example
 * const parsed = parseRepoConfig("cli: codex\nmax_cost_usd: 2\n");
 */
export function parseRepoConfig(text: string): ConfigOutcome {
  if (new TextEncoder().encode(text).length > REPO_CONFIG_MAX_BYTES) {
    return { ok: false, problem: `.codeforge.yml is larger than ${REPO_CONFIG_MAX_BYTES} bytes` };
  }
  let data: unknown;
  try {
    data = parse(text, { maxAliasCount: 16 });
  } catch (error) {
    // The yaml package throws parse errors (and, past maxAliasCount, a ReferenceError): both are the file's fault.
    const firstLine = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return { ok: false, problem: `.codeforge.yml is not valid YAML: ${firstLine}` };
  }
  return checkConfig(data ?? {}, ".codeforge.yml");
}

/** Parses the App-wide defaults (`GITHUB_DEFAULTS`, a JSON object of the same keys); unset or blank is none. */
export function parseAppDefaults(text: string | undefined): ConfigOutcome {
  if (text === undefined || text.trim() === "") return { ok: true, config: {} };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, problem: "GITHUB_DEFAULTS is not valid JSON" };
  }
  return checkConfig(data, "GITHUB_DEFAULTS");
}

/** The settings a task gets: the repository's file over the App's defaults over the built-in ones. */
export function resolveRepoConfig(appDefaults: Partial<RepoConfig>, repo: Partial<RepoConfig> | null): ResolvedRepoConfig {
  const resolved: Record<string, unknown> = { ...BUILT_IN_DEFAULTS };
  for (const layer of [appDefaults, repo ?? {}]) {
    for (const [key, value] of Object.entries(layer)) if (value !== undefined) resolved[key] = value;
  }
  return resolved as unknown as ResolvedRepoConfig;
}

const ROLE_RANK: Record<RepoRole, number> = { none: 0, read: 1, triage: 2, write: 3, maintain: 4, admin: 5 };

/** True when `role` is at least `min`. */
export function roleAllows(role: RepoRole, min: MinPermission): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[min];
}

/** True when `login` with `role` may start or steer a task under `config` (logins compare in any case, as GitHub's do). */
export function senderAllowed(config: Pick<ResolvedRepoConfig, "min_permission" | "allowed_users">, login: string, role: RepoRole): boolean {
  const listed = config.allowed_users === null || config.allowed_users.some((user) => user.toLowerCase() === login.toLowerCase());
  return listed && roleAllows(role, config.min_permission);
}

function checkConfig(data: unknown, source: string): ConfigOutcome {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return { ok: false, problem: `${source} must be a mapping of settings (cli, model, max_cost_usd, …)` };
  }
  const result = RepoConfig.safeParse(data);
  if (result.success) return { ok: true, config: result.data };
  const problems = result.error.issues.slice(0, 3).map((issue) => {
    if (issue.code === "unrecognized_keys") {
      return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")} (known: ${Object.keys(RepoConfig.shape).join(", ")})`;
    }
    return `${issue.path.join(".") || "(top level)"}: ${issue.message}`;
  });
  return { ok: false, problem: `${source}: ${problems.join("; ")}` };
}
