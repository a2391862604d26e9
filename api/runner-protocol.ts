/**
 * The protocol between runners and the edge: lease, events, heartbeat, complete.
 *
 * Every request is HMAC-signed (see `signing.ts`). Every write after the lease names the
 * `lease_id` it holds; the task's Durable Object refuses a write whose lease is no longer the
 * current one (409 `lease_stale`), so a runner declared lost cannot change the task afterwards.
 * @module
 */
import { z } from "zod";
import { BATCH_MAX_EVENTS, CLI_SESSION_ARCHIVE_MAX_CHARS, LEASE_WAIT_MAX_MS, RUNNERS_PAGE_DEFAULT, RUNNERS_PAGE_MAX } from "./limits.js";
import { RunnerEvent } from "./stream-events.js";
import { CliName, Slug, TaskAutonomy } from "./task-request.js";
import { TaskError, TaskResult } from "./task-result.js";

export const RUNNER_API_PREFIX = "/runner/v1";

/** Runner ids are chosen by the runner: hostname-like, stable across restarts if it wishes. */
export const RunnerId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "runner_id must be 1-64 characters of letters, digits, '.', '_' or '-'");

/** `POST /runner/v1/lease`: "give me a task I can run, waiting up to `wait_ms` for one". */
export const LeaseRequest = z.strictObject({
  runner_id: RunnerId,
  runner_version: z.string().max(64).optional(),
  pool: Slug.default("default"),
  /** The CLIs this runner can run; it is only offered tasks for these. */
  clis: z.array(CliName).min(1),
  /** The runner's labels; a task is offered only if it asks for a subset of them. */
  labels: z.array(Slug).max(32).default([]),
  wait_ms: z.number().int().min(0).max(LEASE_WAIT_MAX_MS).default(LEASE_WAIT_MAX_MS),
  /**
   * Tasks the runner is running now, and how many it can run at once (for the runners list). A
   * runner with no free slot (`running` ≥ `capacity`) is given nothing: its request only tells
   * the pool it is alive (a busy runner sends one every 30 s).
   */
  running: z.number().int().min(0).max(1_000).default(0),
  capacity: z.number().int().min(1).max(1_000).default(1),
});
export type LeaseRequest = z.infer<typeof LeaseRequest>;

const CommitSha = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, "must be a full commit id");

/**
 * Where an iteration after the first starts: the branch the previous iteration pushed (at the
 * commit it pushed), or else the previous iteration's patch applied to the commit the task
 * started from. Either way the runner reports its patch against `original_commit_sha` /
 * `commit_sha` of the patch base — the task's starting commit — so patches stay cumulative.
 * Null for the first iteration (and for a follow-up of a task no iteration had a result of):
 * the runner clones `repo.ref`.
 */
export const IterationBase = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("branch"),
    branch: z.string(),
    /** The commit the previous iteration pushed: the runner checks out exactly this. */
    commit_sha: CommitSha,
    /** The commit the task started from; patches are taken against it. */
    original_commit_sha: CommitSha,
  }),
  z.object({
    kind: z.literal("patch"),
    /** The previous iteration's (cumulative) patch, to `git apply` on `commit_sha`. */
    patch: z.string(),
    /** The commit the task started from. */
    commit_sha: CommitSha,
  }),
]);
export type IterationBase = z.infer<typeof IterationBase>;

/**
 * A CLI's session as one iteration left it — its conversation, to be resumed by the next
 * iteration — as the runner uploads it and the next iteration's lease carries it back. A secret
 * of the task (the transcript may quote anything the agent saw): sealed at rest on the edge,
 * never shown, erased with the task.
 */
export const CliSession = z.object({
  /** The CLI that wrote it: another CLI starts fresh. */
  cli: CliName,
  /** The CLI's own id of the session (Claude Code's `session_id`, Codex's `thread_id`). */
  session_id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "session_id must be 1-128 letters, digits, '.', '_' or '-'"),
  /** The session's files under the CLI's HOME, packed and gzip-compressed by the runner: base64. */
  archive: z
    .string()
    .max(CLI_SESSION_ARCHIVE_MAX_CHARS)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, "archive must be base64"),
});
export type CliSession = z.infer<typeof CliSession>;

/**
 * `POST /runner/v1/tasks/:id/session`: the CLI's session after this attempt's CLI ended, sent
 * before the completion. It replaces what an earlier attempt of the iteration sent, and is
 * handed to the next iteration only once this lease completes.
 */
export const SessionUpload = z.strictObject({
  lease_id: z.string().min(1).max(128),
  session: CliSession,
});
export type SessionUpload = z.infer<typeof SessionUpload>;

export const SessionUploadAck = z.object({ stored: z.boolean() });
export type SessionUploadAck = z.infer<typeof SessionUploadAck>;

/** An iteration's budget as a lease carries it (see `CreateTaskRequest.max_cost_usd`). */
export const LeaseBudget = z.object({
  max_cost_usd: z.number().positive().nullable(),
  max_tokens: z.number().int().positive().nullable(),
  max_turns: z.number().int().positive().nullable(),
  /** Spent by earlier attempts of this iteration: counts against the limits above. */
  spent_cost_usd: z.number().nonnegative(),
  spent_tokens: z.number().int().nonnegative(),
});
export type LeaseBudget = z.infer<typeof LeaseBudget>;

/** What a runner needs to run one attempt of a task. Answered with 200; 204 when none came. */
export const Lease = z.object({
  task_id: z.string(),
  /** The credential for every later write about this attempt. Keep it secret. */
  lease_id: z.string(),
  attempt: z.number().int().positive(),
  lease_expires_at: z.string(),
  /**
   * W3C Trace Context of the edge's lease span, in the task's trace: the runner's spans for this
   * attempt are its children, and its reports send a `traceparent` header in the same trace.
   * Null from an edge that predates tracing.
   */
  traceparent: z.string().nullable().default(null),
  /** Renew the lease at least this often. */
  heartbeat_interval_ms: z.number().int().positive(),
  task: z.object({
    repo: z.object({ url: z.string(), ref: z.string().nullable() }),
    /** The task's iteration this attempt runs: 1, then one more per follow-up. */
    iteration: z.number().int().positive(),
    /** Where this iteration starts; null: clone `repo.ref`. */
    base: IterationBase.nullable(),
    /** This iteration's prompt. */
    prompt: z.string(),
    cli: CliName,
    model: z.string().nullable(),
    timeout_seconds: z.number().int().positive(),
    stall_timeout_seconds: z.number().int().positive().nullable(),
    /** Secret: for git only (askpass or header), never in a URL, argv or .git/config. */
    access_token: z.string().nullable(),
    /** Secret values: for the CLI's environment only; masked in all output. */
    env: z.record(z.string(), z.string()),
    /**
     * Commit and push the change to `branch` when the CLI succeeds with changes; null: don't.
     * Absent from an edge that predates pushing, which reads as null.
     */
    push: z.object({ branch: z.string() }).nullable().default(null),
    /**
     * `full`: run the CLI in its non-interactive full-autonomy mode inside the sandbox; `edits`:
     * let it edit files without blanket approval to run commands. Absent from an edge that
     * predates it, which reads as `full`.
     */
    autonomy: TaskAutonomy.default("full"),
    /**
     * The task's egress patterns (validated, lowercase): the sandbox may reach a host only when
     * both the pool's policy and this list allow it (`egressPermits`), the CLI's own model API
     * excepted. Null: the pool's policy as it is. Absent from an edge that predates it, which
     * reads as null.
     */
    egress_allow: z.array(z.string()).nullable().default(null),
    /**
     * The task's setup commands, run in the sandbox before the CLI; null: none given (the pool's
     * default setup, or the repository's script where the pool allows it); `[]`: no setup.
     * Absent from an edge that predates setup, which reads as null.
     */
    setup: z.array(z.string()).nullable().default(null),
    /**
     * The iteration's budget (the task's fields, else null: the runner's pool defaults apply) and
     * what earlier attempts of this iteration already spent, as their last `usage` events said.
     * Absent from an edge that predates budgets, which reads as no budget and nothing spent.
     */
    budget: LeaseBudget.default({ max_cost_usd: null, max_tokens: null, max_turns: null, spent_cost_usd: 0, spent_tokens: 0 }),
    /**
     * The session the previous iteration's CLI left, for this one to resume (a secret, like
     * `env`); null in a first iteration, when none was kept, and from an edge that predates it.
     */
    resume: CliSession.nullable().default(null),
  }),
});
export type Lease = z.infer<typeof Lease>;

/** `POST /runner/v1/tasks/:id/events`: a batch of output, numbered per attempt from 1. */
export const EventBatch = z.strictObject({
  lease_id: z.string().min(1).max(128),
  /** 1, 2, 3, … per attempt. A batch already stored is acknowledged and not stored again. */
  batch_seq: z.number().int().positive(),
  events: z.array(RunnerEvent).min(1).max(BATCH_MAX_EVENTS),
});
export type EventBatch = z.infer<typeof EventBatch>;

export const EventBatchAck = z.object({
  /** False when this batch had been stored before (a retry). */
  stored: z.boolean(),
  last_batch_seq: z.number().int().nonnegative(),
  cancel_requested: z.boolean(),
});
export type EventBatchAck = z.infer<typeof EventBatchAck>;

/** `POST /runner/v1/tasks/:id/heartbeat`: renews the lease; `running` once the CLI started. */
export const Heartbeat = z.strictObject({
  lease_id: z.string().min(1).max(128),
  phase: z.enum(["preparing", "running"]),
});
export type Heartbeat = z.infer<typeof Heartbeat>;

export const HeartbeatAck = z.object({
  lease_expires_at: z.string(),
  /** Stop the CLI (SIGTERM, then SIGKILL) and complete with outcome `canceled`. */
  cancel_requested: z.boolean(),
});
export type HeartbeatAck = z.infer<typeof HeartbeatAck>;

/** `POST /runner/v1/tasks/:id/complete`: the attempt's outcome. */
export const Completion = z.strictObject({
  lease_id: z.string().min(1).max(128),
  outcome: z.enum(["succeeded", "failed", "timed_out", "canceled"]),
  result: TaskResult.nullable(),
  error: TaskError.nullable(),
  /** The last batch_seq the runner sent; the edge refuses to complete with batches missing. */
  last_batch_seq: z.number().int().nonnegative(),
});
export type Completion = z.infer<typeof Completion>;

export const CompletionAck = z.object({ status: z.string() });
export type CompletionAck = z.infer<typeof CompletionAck>;

/**
 * `POST /runner/v1/tasks/:id/release`: the runner hands the task back without running it to
 * the end (graceful shutdown). The task is re-queued at once for another runner; the attempt
 * does not count against `max_attempts`.
 */
export const Release = z.strictObject({
  lease_id: z.string().min(1).max(128),
  reason: z.string().max(500),
});
export type Release = z.infer<typeof Release>;

export const ReleaseAck = z.object({ status: z.string() });
export type ReleaseAck = z.infer<typeof ReleaseAck>;

/** A runner as `GET /api/v1/runners` (admin) shows it. */
export const RunnerInfo = z.object({
  id: z.string(),
  version: z.string().nullable(),
  pool: z.string(),
  clis: z.array(z.string()),
  labels: z.array(z.string()),
  running: z.number().int(),
  capacity: z.number().int(),
  /** Last lease request; a runner not seen for a while is pruned from the list. */
  last_seen_at: z.string(),
});
export type RunnerInfo = z.infer<typeof RunnerInfo>;

/** A `next_cursor` of the runners list: the pool and id of the last runner of a page. */
export const RUNNER_LIST_CURSOR_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}:[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Query of `GET /api/v1/runners`: by pool, then by runner id. */
export const RunnerListQuery = z.strictObject({
  /** Only the runners of this pool. */
  pool: Slug.optional(),
  limit: z.coerce.number().int().min(1).max(RUNNERS_PAGE_MAX).default(RUNNERS_PAGE_DEFAULT),
  /** `next_cursor` of the previous page. */
  cursor: z.string().regex(RUNNER_LIST_CURSOR_PATTERN, "cursor must be a next_cursor value").optional(),
});
export type RunnerListQuery = z.infer<typeof RunnerListQuery>;

/** `GET /api/v1/runners`: a page of the runners seen recently, across pools. */
export const RunnerList = z.object({
  runners: z.array(RunnerInfo),
  /** Pass as `cursor` for the next page; null on the last. */
  next_cursor: z.string().nullable(),
});
export type RunnerList = z.infer<typeof RunnerList>;
