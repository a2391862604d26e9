/**
 * What a client submits to make a task or to give it a follow-up: `CreateTaskRequest` and
 * `FollowUpRequest`, and their parts — the CLI and pool names, the repository, the secret
 * environment, the spending limits, the autonomy the CLI gets, and where a change is pushed.
 *
 * The edge validates requests with these schemas and the OpenAPI document is generated from
 * them, so there is one definition of each field.
 * @module
 */
import { z } from "zod";
import { checkBranchName } from "./branch-name.js";
import { CALLBACK_URL_MAX_CHARS } from "./callback-url.js";
import { EgressAllowList } from "./egress-host.js";
import { PROMPT_MAX_CHARS, SETUP_COMMAND_MAX_CHARS, SETUP_COMMANDS_MAX } from "./limits.js";
import { checkRef } from "./repo-url.js";
import { WebhookEventType } from "./webhook-event-types.js";

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

/**
 * Shell commands run in the task's sandbox, in its checkout, one after the other before the CLI
 * starts (`sh -c <command>` each: files carry over from one to the next, the shell's state does
 * not). The first that fails ends the task as `failed` with `setup_failed`.
 */
export const SetupCommands = z
  .array(
    z
      .string()
      .max(SETUP_COMMAND_MAX_CHARS, `a setup command may have at most ${SETUP_COMMAND_MAX_CHARS} characters`)
      .refine((command) => command.trim().length > 0, "a setup command must not be blank")
      .refine((command) => !command.includes("\0"), "a setup command must not contain a NUL character"),
  )
  .max(SETUP_COMMANDS_MAX, `setup may have at most ${SETUP_COMMANDS_MAX} commands`);
export type SetupCommands = z.infer<typeof SetupCommands>;

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
     * Commands run in the sandbox, in the checkout, before the CLI starts (see `SetupCommands`):
     * installing dependencies, say. Package registries are reachable while they run (the runner
     * pool's setup egress policy), model APIs are not. Absent: the pool's default setup, or where
     * the pool allows it the repository's `.codeforge/setup.sh`; `[]`: no setup at all. Kept by
     * every follow-up.
     */
    setup: SetupCommands.optional(),
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
