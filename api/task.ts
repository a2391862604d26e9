/**
 * The task resource: what a client submits, and what it reads back.
 *
 * Every shape is a zod schema exported with a type of the same name. The edge validates
 * requests with these schemas, the runner parses leases with them, and the OpenAPI document
 * is generated from them, so there is one definition of each field.
 * @module
 */
import { z } from "zod";
import { ITERATIONS_MAX, PATCH_MAX_BYTES, PROMPT_MAX_CHARS, TASK_INDEX_PROMPT_CHARS, TASKS_PAGE_DEFAULT, TASKS_PAGE_MAX } from "./limits.js";
import { CALLBACK_URL_MAX_CHARS } from "./callback-url.js";
import { checkBranchName } from "./branch-name.js";
import { EgressAllowList } from "./egress-host.js";
import { checkRef } from "./repo-url.js";
import { WebhookEventType } from "./webhook-event-types.js";

/** Where a task is in its life. The last four are terminal. */
export const TaskStatus = z.enum(["queued", "leased", "running", "succeeded", "failed", "timed_out", "canceled"]);
export type TaskStatus = z.infer<typeof TaskStatus>;

export const TERMINAL_STATUSES: readonly TaskStatus[] = ["succeeded", "failed", "timed_out", "canceled"];

/** True once a task can no longer change. */
export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** The coding CLIs CodeForge knows how to drive. `demo` is offline and deterministic. */
export const CliName = z.enum(["demo", "claude", "aider", "codex", "gemini", "opencode", "script"]);
export type CliName = z.infer<typeof CliName>;

/** Pool and label names: short, lowercase, safe in URLs, logs and metric labels. */
export const Slug = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "must be 1-63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit");

export const RepoSpec = z.strictObject({
  /** `https://host/owner/repo.git` (or `ssh://`, or `file://` in local mode). No credentials. */
  url: z.string().min(1).max(2048),
  /** Branch, tag or full commit id; the remote's default branch when absent. */
  ref: z
    .string()
    .optional()
    .superRefine((ref, ctx) => {
      const problem = ref === undefined ? null : checkRef(ref);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
});
export type RepoSpec = z.infer<typeof RepoSpec>;

/** Variables the CLI's environment must not have overridden by a task. */
export const RESERVED_ENV_NAMES: readonly string[] = [
  "PATH",
  "HOME",
  "TMPDIR",
  "LANG",
  "SHELL",
  "USER",
  "PWD",
  "LD_PRELOAD",
  "LD_LIBRARY_PATH",
  "NODE_OPTIONS",
  "GIT_DIR",
  "GIT_WORK_TREE",
];

/** A task's secret environment: names a shell would accept, values of bounded size. */
export const TaskEnv = z
  .record(
    z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]{0,127}$/, "environment variable names are A-Z, 0-9 and '_', not starting with a digit")
      .refine(
        (name) => !RESERVED_ENV_NAMES.includes(name) && !name.startsWith("CODEFORGE_") && !name.startsWith("GIT_CONFIG"),
        "this variable is set by the runner and cannot be overridden",
      ),
    z.string().max(16_384),
  )
  .refine((env) => Object.keys(env).length <= 64, "env may have at most 64 variables");
export type TaskEnv = z.infer<typeof TaskEnv>;

/**
 * Spending limits of one iteration of a task, summed over its attempts and every model call of
 * its CLI (main agent, subagents, side calls) as the runner's model gateway meters them. Past
 * one, the gateway refuses further calls, the runner stops the CLI and the iteration fails with
 * `budget_exceeded`. A runner pool may set defaults for tasks that set none.
 */
export const MaxCostUsd = z.number().positive().max(100_000);
export const MaxTokens = z.number().int().positive().max(1_000_000_000_000);
/** Agent turns, for CLIs that can count them (Claude Code's `--max-turns`, Gemini CLI's session turns). */
export const MaxTurns = z.number().int().min(1).max(10_000);

const Prompt = z.string().min(1, "prompt must not be empty").max(PROMPT_MAX_CHARS);
/** As the CLIs take them: `claude-sonnet-4-5`, `sonnet[1m]`, `anthropic/claude-sonnet-4-5`, `gpt-5-codex`, `models/gemini-2.5-pro`. */
const ModelName = z
  .string()
  .min(1)
  .max(200)
  // biome-ignore lint/complexity/noUselessEscapeInRegex: `\[` keeps the pattern unambiguous to the OpenAPI document's readers (other regex dialects)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/@\[\]-]*$/, "model has characters no model name uses");
const TimeoutSeconds = z.number().int().min(10).max(86_400);
const AccessToken = z.string().min(1).max(4_096);

/**
 * How much a task lets its CLI do inside the runner's sandbox.
 *
 * - `full`: the CLI runs in its non-interactive full-autonomy mode (each CLI's own switch for
 *   it): it may edit files and run any program, confined by the sandbox and its egress policy.
 * - `edits`: the task asks for less — the CLI may edit files but is not given blanket approval
 *   to run commands (what it may still run is up to the CLI's own default permissions).
 */
export const TaskAutonomy = z.enum(["full", "edits"]);
export type TaskAutonomy = z.infer<typeof TaskAutonomy>;

/** The sandbox a CLI ran in: `bubblewrap` (its own namespaces and limits), or `none` (the runner ran it without one). */
export const SandboxKind = z.enum(["bubblewrap", "none"]);
export type SandboxKind = z.infer<typeof SandboxKind>;

export const CreateTaskRequest = z
  .strictObject({
    repo: RepoSpec,
    prompt: Prompt,
    cli: CliName,
    model: ModelName.optional(),
    /** Wall-clock budget for one attempt, from lease to report. */
    timeout_seconds: TimeoutSeconds.default(1_800),
    /** 0 (lowest) to 9 (highest); higher runs first, ties run in submission order. */
    priority: z.number().int().min(0).max(9).default(5),
    /** The runner pool that serves this task. */
    pool: Slug.default("default"),
    /** Runners must advertise every one of these labels to be offered the task. */
    labels: z.array(Slug).max(16).default([]),
    /** Attempts before a task whose runners keep vanishing fails as `runner_lost`. */
    max_attempts: z.number().int().min(1).max(10).default(3),
    /** Ends the attempt when the CLI prints nothing for this long (a hung tool, a prompt for input). */
    stall_timeout_seconds: TimeoutSeconds.optional(),
    /**
     * `full` (default): the CLI runs in its non-interactive full-autonomy mode inside the
     * runner's sandbox and may run any program there. `edits`: the CLI may edit files but is not
     * given blanket approval to run commands. Kept by every follow-up.
     */
    autonomy: TaskAutonomy.default("full"),
    /**
     * Host patterns (`api.example.com`, `*.example.com`, an optional `:port` or `:*`; see
     * `egress-host.ts`) that narrow the runner pool's egress policy for this task: the sandbox may
     * open a connection to a host only when both the pool's policy and this list allow it, so a
     * task can never widen its pool's policy. The CLI's own model API stays reachable whatever the
     * list says. Stored lowercase. Absent: the pool's policy as it is. Kept by every follow-up.
     */
    egress_allow: EgressAllowList.optional(),
    /**
     * Write-only: a token for the repository (clone, and push when asked). Encrypted at rest,
     * handed only to the runner holding the lease, erased when the task ends, never returned,
     * logged or streamed.
     */
    access_token: AccessToken.optional(),
    /** Write-only: environment variables for the CLI (its API key, say). Treated as secrets. */
    env: TaskEnv.optional(),
    /** Spend at most this many US dollars on model calls per iteration (see `MaxCostUsd`). Kept by follow-ups unless they set their own. */
    max_cost_usd: MaxCostUsd.optional(),
    /** Use at most this many tokens (input, output and cache, all models) per iteration. Kept by follow-ups unless they set their own. */
    max_tokens: MaxTokens.optional(),
    /** Stop after this many agent turns, where the CLI can count them. Kept by follow-ups unless they set their own. */
    max_turns: MaxTurns.optional(),
    /** Free-form string pairs echoed back on the task, for the client's bookkeeping. */
    metadata: z
      .record(z.string().min(1).max(64), z.string().max(1_024))
      .refine((m) => Object.keys(m).length <= 32, "metadata may have at most 32 keys")
      .optional(),
    /**
     * Where to send signed webhooks about this task (Standard Webhooks). `https` only, no
     * credentials, no private, loopback or metadata addresses (the operator may allow local ones
     * for development). See docs/webhooks.md.
     */
    callback_url: z.string().min(1).max(CALLBACK_URL_MAX_CHARS).optional(),
    /** The events to send; default: how the task ended (`task.succeeded`, `.failed`, `.timed_out`, `.canceled`). */
    callback_events: z
      .array(WebhookEventType)
      .min(1)
      .max(WebhookEventType.options.length)
      .refine((events) => new Set(events).size === events.length, "callback_events lists an event twice")
      .optional(),
    /**
     * Commit what the CLI changed and push it to `branch` when it ends successfully with changes.
     * Needs an `access_token` that may write to the repository (only `file://` repositories in
     * local mode can be pushed to without one). Never a force push.
     */
    push: z.boolean().default(false),
    /** The branch to push to (only with `push: true`); default `codeforge/<task-id>`. */
    branch: z
      .string()
      .optional()
      .superRefine((branch, ctx) => {
        const problem = branch === undefined ? null : checkBranchName(branch);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }),
  })
  .refine((r) => r.callback_events === undefined || r.callback_url !== undefined, {
    message: "callback_events needs a callback_url",
    path: ["callback_events"],
  })
  .refine((r) => r.branch === undefined || r.push, {
    message: "branch is only used with push: true",
    path: ["branch"],
  });
export type CreateTaskRequest = z.infer<typeof CreateTaskRequest>;
/** The request as a client may write it (defaults not yet applied). */
export type CreateTaskInput = z.input<typeof CreateTaskRequest>;

/**
 * `POST /api/v1/tasks/:id/instructions`: a follow-up — iteration n+1 of a task that ended, on
 * top of what the last iteration left (its pushed branch, or else its patch). Fields left out
 * keep the previous iteration's value. Secrets are erased when each iteration ends, so a
 * follow-up carries its own: `access_token` again if the task had one, and `env` with at least
 * the names the previous iteration had.
 */
export const FollowUpRequest = z.strictObject({
  prompt: Prompt,
  model: ModelName.optional(),
  timeout_seconds: TimeoutSeconds.optional(),
  stall_timeout_seconds: TimeoutSeconds.optional(),
  /** Write-only, as on create; required when the previous iteration had one. */
  access_token: AccessToken.optional(),
  /** Write-only, as on create; must name every variable the previous iteration had. */
  env: TaskEnv.optional(),
  max_cost_usd: MaxCostUsd.optional(),
  max_tokens: MaxTokens.optional(),
  max_turns: MaxTurns.optional(),
});
export type FollowUpRequest = z.infer<typeof FollowUpRequest>;

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
    /** The change holds one of the task's secrets (the message names the file): it was not pushed. */
    "secret_in_change",
  ]),
  message: z.string(),
});
export type TaskError = z.infer<typeof TaskError>;

export const TaskLinks = z.object({
  self: z.string(),
  events: z.string(),
  stream: z.string(),
  cancel: z.string(),
  deliveries: z.string(),
  /** `POST` a follow-up here once the task has ended. */
  instructions: z.string(),
});
export type TaskLinks = z.infer<typeof TaskLinks>;

/**
 * One iteration of a task, as the task's `iterations` list shows it. Its `result` leaves out
 * the patch, to keep the task view small: every iteration's whole result (patch included) is
 * its `result` event in the log, from `first_seq` on, and the current one's is the task's
 * `result`. Patches are cumulative, so the latest holds every change so far.
 */
export const TaskIteration = z.object({
  /** 1 for the task as created, 2 for its first follow-up, … */
  n: z.number().int().positive(),
  prompt: z.string(),
  model: z.string().nullable(),
  status: TaskStatus,
  /** Attempts this iteration used (they restart at 1 for every iteration). */
  attempt: z.number().int().nonnegative(),
  result: TaskResult.omit({ patch: true }).nullable(),
  error: TaskError.nullable(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  /** Sequence number of the iteration's first event (`since=first_seq-1` replays just it). */
  first_seq: z.number().int().positive(),
});
export type TaskIteration = z.infer<typeof TaskIteration>;

/** A task as clients see it. Secrets are never part of it. */
export const Task = z.object({
  id: z.string(),
  /** Status of the current iteration (see `iteration`); `result`, `error`, `attempt`,
   * `prompt`, `model` and the start and finish times describe the current iteration too. */
  status: TaskStatus,
  /** The current iteration: 1 until a follow-up is given (`POST …/instructions`). */
  iteration: z.number().int().positive(),
  /** Every iteration so far, oldest first; the last is the current one. */
  iterations: z.array(TaskIteration).max(ITERATIONS_MAX),
  repo: z.object({ url: z.string(), ref: z.string().nullable() }),
  prompt: z.string(),
  cli: CliName,
  model: z.string().nullable(),
  timeout_seconds: z.number().int(),
  priority: z.number().int(),
  pool: z.string(),
  labels: z.array(z.string()),
  max_attempts: z.number().int(),
  stall_timeout_seconds: z.number().int().nullable(),
  /** How much the CLI may do in its sandbox (see `CreateTaskRequest.autonomy`); `full` for tasks made before it existed. */
  autonomy: TaskAutonomy,
  /** The task's narrowing of its pool's egress policy (lowercase patterns); null: the pool's policy as it is. */
  egress_allow: z.array(z.string()).nullable(),
  /** The current iteration's budget (see `CreateTaskRequest.max_cost_usd`); null: none set (the runner pool's defaults apply). */
  max_cost_usd: z.number().nullable(),
  max_tokens: z.number().int().nullable(),
  max_turns: z.number().int().nullable(),
  /** Whether the task carries an access token / which env names it carries (never the values). */
  has_access_token: z.boolean(),
  env_names: z.array(z.string()),
  metadata: z.record(z.string(), z.string()),
  /** Whether the task pushes its change when it succeeds. */
  push: z.boolean(),
  /** The branch it pushes to (the one asked for, else `codeforge/<task-id>`); null without `push`. */
  branch: z.string().nullable(),
  /** Where webhooks about the task go (normalized), or null. */
  callback_url: z.string().nullable(),
  /** The events sent to `callback_url` (empty without one). */
  callback_events: z.array(WebhookEventType),
  attempt: z.number().int().nonnegative(),
  runner_id: z.string().nullable(),
  cancel_requested: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  result: TaskResult.nullable(),
  error: TaskError.nullable(),
  /**
   * While queued: why no runner has taken the task yet, when the edge can tell (no runner in
   * the pool offers its CLI, none has its labels, all capable runners are busy). Null otherwise.
   */
  waiting_reason: z.string().nullable(),
  /** Sequence number of the newest event in the task's log. */
  last_seq: z.number().int().nonnegative(),
  links: TaskLinks,
});
export type Task = z.infer<typeof Task>;

/** Query of `GET /api/v1/tasks/:id/events`. */
export const EventsQuery = z.strictObject({
  since: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1_000).default(500),
});
export type EventsQuery = z.infer<typeof EventsQuery>;

/** Query of `GET /api/v1/tasks/:id/stream`. */
export const StreamQuery = z.strictObject({
  since: z.coerce.number().int().min(0).default(0),
});
export type StreamQuery = z.infer<typeof StreamQuery>;

/**
 * A task as `GET /api/v1/tasks` lists it: what a table of tasks needs, from the task index
 * (read `links.self` for the whole task). It follows the task within moments of each status
 * change.
 */
export const TaskSummary = z.object({
  id: z.string(),
  /** The key id that submitted it (`admin` for the bootstrap key). */
  owner: z.string(),
  status: TaskStatus,
  cli: CliName,
  model: z.string().nullable(),
  repo: z.object({ url: z.string(), ref: z.string().nullable() }),
  pool: z.string(),
  /** The first characters of the prompt (at most `TASK_INDEX_PROMPT_CHARS`). */
  prompt_excerpt: z.string().max(TASK_INDEX_PROMPT_CHARS),
  created_at: z.string(),
  /** When the task last changed status. */
  updated_at: z.string(),
  finished_at: z.string().nullable(),
  /** Why it did not succeed, once it ended so. */
  error_code: TaskError.shape.code.nullable(),
  links: z.object({ self: z.string() }),
});
export type TaskSummary = z.infer<typeof TaskSummary>;

/** A `next_cursor`: the creation time (ms) and id of the last task of a page. */
export const TASK_LIST_CURSOR_PATTERN = /^[0-9]{1,15}_tsk_[0-9a-hjkmnp-tv-z]{26}$/;

/** Query of `GET /api/v1/tasks`: newest first. */
export const TaskListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(TASKS_PAGE_MAX).default(TASKS_PAGE_DEFAULT),
  /** `next_cursor` of the previous page. */
  cursor: z.string().regex(TASK_LIST_CURSOR_PATTERN, "cursor must be a next_cursor value").optional(),
  /** Only tasks with this status. */
  status: TaskStatus.optional(),
  /** Admin only: only tasks of this key id (`admin` for the bootstrap key). A non-admin may name only itself. */
  owner: z
    .string()
    .regex(/^(admin|key_[0-9a-hjkmnp-tv-z]{16})$/, "owner must be a key id (key_…) or admin")
    .optional(),
});
export type TaskListQuery = z.infer<typeof TaskListQuery>;

/** `GET /api/v1/tasks` */
export const TaskList = z.object({
  tasks: z.array(TaskSummary),
  /** Pass as `cursor` for the next page; null on the last. */
  next_cursor: z.string().nullable(),
});
export type TaskList = z.infer<typeof TaskList>;
