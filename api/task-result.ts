/**
 * What a task's run produced, as the runner reports it and clients read it: `TaskResult` (the
 * change, its patch and diff stat, the push, the sandbox) with its usage and cost figures
 * (`TokenUsage`, `ModelUsage`, `CliReportedUsage`), and `TaskError`, why a task did not succeed.
 * @module
 */
import { z } from "zod";
import { PATCH_MAX_BYTES } from "./limits.js";

/** The sandbox a CLI ran in: `bubblewrap` (its own namespaces and limits), or `none` (the runner ran it without one). */
export const SandboxKind = z.enum(["bubblewrap", "none"]);
export type SandboxKind = z.infer<typeof SandboxKind>;

export const ChangedFile = z.object({
  path: z.string(),
  status: z.enum(["added", "modified", "deleted", "renamed", "copied", "type_changed"]),
});
export type ChangedFile = z.infer<typeof ChangedFile>;

export const DiffStat = z.object({
  files_changed: z.number().int().nonnegative(),
  insertions: z.number().int().nonnegative(),
  deletions: z.number().int().nonnegative(),
});
export type DiffStat = z.infer<typeof DiffStat>;

/** Tokens the CLI reported using, each null when the CLI did not say. */
export const TokenUsage = z.object({
  input_tokens: z.number().int().nonnegative().nullable(),
  output_tokens: z.number().int().nonnegative().nullable(),
  /** Input tokens read from the model provider's prompt cache. */
  cache_read_input_tokens: z.number().int().nonnegative().nullable(),
  /** Input tokens written to the model provider's prompt cache. */
  cache_creation_input_tokens: z.number().int().nonnegative().nullable(),
});
export type TokenUsage = z.infer<typeof TokenUsage>;

/** One model's share of an attempt's calls, as the runner's model gateway metered them. */
export const ModelUsage = z.object({
  calls: z.number().int().nonnegative(),
  input_tokens: z.number().int().nonnegative(),
  output_tokens: z.number().int().nonnegative(),
  cache_read_input_tokens: z.number().int().nonnegative(),
  cache_creation_input_tokens: z.number().int().nonnegative(),
  /** From the runner's price table; null when the model is not in it. */
  cost_usd: z.number().nonnegative().nullable(),
});
export type ModelUsage = z.infer<typeof ModelUsage>;

/** The usage and cost the CLI itself reported (its `result` event, its report lines). */
export const CliReportedUsage = z.object({
  cost_usd: z.number().nonnegative().nullable(),
  usage: TokenUsage.nullable(),
});
export type CliReportedUsage = z.infer<typeof CliReportedUsage>;

/** The commit a task pushed. */
export const PushResult = z.object({
  branch: z.string(),
  /** The commit now at the tip of `branch` on the remote. */
  commit_sha: z.string(),
});
export type PushResult = z.infer<typeof PushResult>;

/**
 * Where a checkout's objects came from: `off` (the runner keeps no repository cache), `cold`
 * (its mirror of the repository was made for this clone), `miss` (the mirror was updated from
 * the remote first), `hit` (the mirror had the commit), `fallback` (the mirror was busy or
 * broken: the remote alone).
 */
export const CloneCache = z.enum(["off", "cold", "miss", "hit", "fallback"]);
export type CloneCache = z.infer<typeof CloneCache>;

/**
 * The setup's dependency cache (the package managers' download caches the runner keeps per
 * pool and repository): `off` (the runner keeps none), `cold` (made for this setup), `miss`
 * (kept, last used with other lockfiles: partly warm), `hit` (kept, last used with the same
 * lockfiles), `fallback` (another task of the repository held it: none lent).
 */
export const DependencyCacheStatus = z.enum(["off", "cold", "miss", "hit", "fallback"]);
export type DependencyCacheStatus = z.infer<typeof DependencyCacheStatus>;

/** How long the phases of an attempt took, each present once the runner measures it. */
export const AttemptPhases = z.object({
  /** The checkout: clone (or follow-up checkout) of the repository. */
  clone: z.object({ duration_ms: z.number().int().nonnegative(), cache: CloneCache }).optional(),
  /** The task's setup commands, when any ran (they all succeeded, or there would be no result). */
  setup: z.object({ duration_ms: z.number().int().nonnegative(), dependency_cache: DependencyCacheStatus.optional() }).optional(),
  /** Committing and pushing the change, when the task asks for a push (also when the push failed). */
  push: z.object({ duration_ms: z.number().int().nonnegative() }).optional(),
});
export type AttemptPhases = z.infer<typeof AttemptPhases>;

/** What the runner found when the CLI ended. */
export const TaskResult = z.object({
  exit_code: z.number().int().nullable(),
  duration_ms: z.number().int().nonnegative(),
  changed_files: z.array(ChangedFile),
  /** True when more files changed than `changed_files` lists. */
  changed_files_truncated: z.boolean(),
  diff_stat: DiffStat,
  /** Unified diff of every change, cut at `PATCH_MAX_BYTES` (at a line end). */
  patch: z.string().max(PATCH_MAX_BYTES + 1_024),
  /** True when `patch` was cut at `PATCH_MAX_BYTES`: it is then not the whole change (a pushed commit is). */
  patch_truncated: z.boolean(),
  /** The CLI's own closing message, when it gives one (Claude Code's `result`). */
  final_message: z.string().nullable(),
  // The fields below default on input, so a runner that predates them can still report.
  /**
   * What the run cost in US dollars: the model gateway's figure (every call metered, priced by
   * the runner's price table) when the CLI's calls went through it (`usage_source: gateway`),
   * else the CLI's own (Claude Code, opencode, Aider); null when neither is known.
   */
  cost_usd: z.number().nonnegative().nullable().default(null),
  /** Tokens used: the gateway's sums when metered, else the CLI's own report; null when unknown. */
  usage: TokenUsage.nullable().default(null),
  /** Where `usage` and `cost_usd` come from: `gateway` (metered), `cli` (the CLI's report), or null. */
  usage_source: z.enum(["gateway", "cli"]).nullable().default(null),
  /** The gateway's figures per model (the model name as the provider answered it); null when not metered. */
  model_usage: z.record(z.string(), ModelUsage).nullable().default(null),
  /** What the CLI itself reported, beside the gateway's figures; null when it reported nothing. */
  cli_reported: CliReportedUsage.nullable().default(null),
  /**
   * True when a secret of the task was found in the change and masked in `patch`: the patch then
   * does not match the files, so it is not pushed and a follow-up cannot build on it.
   */
  patch_masked: z.boolean().default(false),
  /** The branch and commit pushed (`push: true` and the CLI changed something); null otherwise. */
  push: PushResult.nullable().default(null),
  /**
   * The sandbox the CLI ran in: `bubblewrap`, or `none` when the runner runs CLIs without one.
   * Null from runners that predate sandboxes (and in results stored before this field existed).
   */
  sandbox: SandboxKind.nullable().default(null),
  /**
   * The commit the task started from (what the first iteration checked out), which `patch`
   * is taken against in every iteration, so the latest patch holds all changes so far.
   * Absent from runners that predate follow-ups.
   */
  base_commit_sha: z
    .string()
    .regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, "base_commit_sha must be a full commit id")
    .optional(),
  /** How long the attempt's phases took, and whether the clone came from the runner's cache. Absent from runners that predate it. */
  phases: AttemptPhases.optional(),
});
export type TaskResult = z.infer<typeof TaskResult>;

/** Why a task did not succeed. */
export const TaskError = z.object({
  code: z.enum([
    "cli_failed",
    "clone_failed",
    "runner_error",
    "runner_lost",
    "timed_out",
    "stalled",
    "canceled",
    "output_limit",
    "secrets_unavailable",
    "push_failed",
    /** A sandbox limit was hit (memory, processes, disk); the message names which. */
    "resource_limit",
    /** The iteration reached `max_cost_usd`, `max_tokens` or `max_turns`; the message gives the spend so far. */
    "budget_exceeded",
    /** A setup command failed or ran past the setup's time limit (the message names it and ends with its last output lines); the CLI never ran. */
    "setup_failed",
    /** The change holds one of the task's secrets (the message names the file): it was not pushed. */
    "secret_in_change",
  ]),
  message: z.string(),
});
export type TaskError = z.infer<typeof TaskError>;
