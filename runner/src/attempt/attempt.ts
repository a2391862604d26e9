/**
 * One leased attempt as the phases see it: the lease, the ways to stop it, and what it holds.
 *
 * The task runner opens an `Attempt` for each lease and hands it from phase to phase (launch,
 * checkout, run, describe, push). It carries what every phase needs — the lease with its
 * budget, the loggers, the secret masker, the output batcher, the heartbeat — and the resources
 * the phases create along the way (workspace, sandbox, the CLI), so that `close()` can end
 * whatever exists, however far the attempt got.
 *
 * Every way out of a task goes through one `stop(reason)`: the first reason wins and decides
 * the outcome (`canceled`, `timed_out`, `stalled`, `resource_limit`, `budget_exceeded`), or that
 * no outcome is reported at all (`lease_lost`, `shutdown`; see `attempt-report.ts`). A phase
 * either hands on what the next one needs (`{ next }`) or ends the attempt with the report to
 * send and the stop reason that decided it (`endWith`).
 * @module
 */
import type { Logger } from "pino";
import {
  TaskEnv,
  type CidrRange,
  type Completion,
  type DependencyCacheStatus,
  type Lease,
  type LeaseBudget,
  type TaskError,
  type TaskResult,
} from "#api/index.js";
import type { CliAdapter } from "../cli/cli-adapter.js";
import type { CliRegistry } from "../cli/registry.js";
import type { EdgeClient } from "../edge-link/edge-client.js";
import { describeEdgeError, isLeaseStale } from "../edge-link/edge-error.js";
import { startHeartbeat, type HeartbeatLoop } from "../edge-link/heartbeat.js";
import type { GitPolicy } from "../git/git-hardening.js";
import type { DependencyCache } from "./dependency-cache.js";
import type { CommitIdentity } from "../git/git-push.js";
import type { RepoCache } from "../git/repo-cache.js";
import type { HostLookup } from "../git/repo-host-check.js";
import type { IdleTimer } from "../output/idle-timer.js";
import { createOutputBatcher, type OutputBatcher } from "../output/output-batcher.js";
import type { ModelPriceTable } from "../sandbox/model-prices.js";
import type { RunningProcess } from "../sandbox/process-runner.js";
import type { AttemptSandbox, CliLaunch, LimitName, Sandbox } from "../sandbox/sandbox.js";
import { createSecretMasker, type SecretMasker } from "../secrets/secret-masker.js";
import type { RunnerMetrics } from "../telemetry/runner-metrics.js";
import type { Workspace } from "../workspace/workspace.js";

export interface TaskRunnerOptions {
  client: EdgeClient;
  registry: CliRegistry;
  /** What each attempt's CLI runs in. */
  sandbox: Sandbox;
  /** The pool's egress policy: hosts beyond the CLI's model API and the repository's host. */
  egress?: { allow: readonly string[]; allowedNetworks: readonly CidrRange[] };
  /** The runner's own HMAC secret: masked in everything the runner sends. */
  runnerSecret?: string;
  workspaceRoot: string;
  gitPolicy: GitPolicy;
  /** Author and committer of pushed commits (default `CodeForge <codeforge@localhost>`). */
  commitIdentity?: CommitIdentity;
  /** `PATH` for git and the CLIs. */
  pathEnv: string;
  logger: Logger;
  /** Output bytes sent per task. */
  outputMaxBytes?: number;
  /** How long to keep retrying the completion report through network trouble. */
  completeGiveUpAfterMs?: number;
  /** How long to wait for the last output to reach the edge before reporting anyway. */
  flushTimeoutMs?: number;
  /** Stall timeout for tasks that set none; undefined: off. */
  stallTimeoutSeconds?: number;
  /** The operator's model prices (`model_prices`), laid over the gateway's default table. */
  modelPrices?: ModelPriceTable;
  /** The pool's budget for tasks that set none of their own (per iteration); null: no limit. */
  budgetDefaults?: { maxCostUsd: number | null; maxTokens: number | null; maxTurns: number | null };
  /** The pool's setup settings (`setup-settings.ts`); absent: no default setup, no repository script. */
  setup?: SetupOptions;
  /** Resolves repository hosts (default: the system resolver). */
  lookup?: HostLookup;
  /** The runner's repository cache (`repo_cache`); none: every clone from the remote alone. */
  repoCache?: RepoCache;
  /** The runner's dependency caches (`dependency_cache`), lent to setups; none: setups get none. */
  dependencyCache?: DependencyCache;
  metrics?: RunnerMetrics;
  /** For heartbeat and output-post lines (high volume: a sampled logger); `logger` by default. */
  highVolumeLogger?: Logger;
  now?: () => number;
}

/** What the pool says about tasks' setup (`attempt/setup.ts`). */
export interface SetupOptions {
  /** Commands for tasks that give none. */
  commands: readonly string[];
  /** The setup's time limit, all its commands together. */
  timeoutSeconds: number;
  /** Hosts the setup may reach besides the repository's host. */
  egressAllow: readonly string[];
  /** Run the repository's `.codeforge/setup.sh` for tasks that give no setup. */
  repositoryScript: boolean;
}

/** Why a task stopped before its CLI finished on its own. */
export type StopReason = "canceled" | "timed_out" | "stalled" | "resource_limit" | "budget_exceeded" | "lease_lost" | "shutdown" | "edge_unreachable";

/** How an attempt ended, for metrics: an outcome reported, handed back, or given up. */
export type AttemptEnd = Completion["outcome"] | "released" | "lease_lost";

/** What an attempt reports: the completion without its lease and batch bookkeeping. */
export interface Report {
  outcome: Completion["outcome"];
  result: TaskResult | null;
  error: TaskError | null;
}

/** A phase that ends the attempt: the report, and the stop reason that decided it (null: none). */
export interface Ending {
  end: Report;
  reason: StopReason | null;
}

/** What a phase hands on: what the next phase needs, or the end of the attempt. */
export type Step<T> = { next: T } | Ending;

export interface Attempt {
  readonly lease: Lease;
  readonly taskId: string;
  readonly options: TaskRunnerOptions;
  readonly now: () => number;
  readonly log: Logger;
  /** For high-volume lines (heartbeats, output posts, egress denials). */
  readonly noisyLog: Logger;
  /** The runner's shutdown. */
  readonly shutdown: AbortSignal;
  /** Aborted at the first `stop`: what the attempt's git commands and its CLI listen to. */
  readonly signal: AbortSignal;
  /** The first reason the attempt was stopped for; null while nothing stopped it. */
  readonly stopReason: StopReason | null;
  /** The adapter of the task's CLI; undefined when this runner does not have that CLI. */
  readonly adapter: CliAdapter | undefined;
  readonly taskEnv: ReturnType<typeof TaskEnv.safeParse>;
  /** The task's own limits, else the pool's; with what earlier attempts of the iteration spent. */
  readonly budget: LeaseBudget;
  readonly masker: SecretMasker;
  readonly batcher: OutputBatcher;
  readonly heartbeat: HeartbeatLoop;
  stop(reason: StopReason): void;
  /**
   * Ends whatever the attempt still holds, in order: its timers, the CLI (or a launch never
   * started), the sandbox, the heartbeat, the batcher, the workspace. Never throws.
   */
  close(): Promise<void>;
  /** Created by the phases as the attempt goes on; ended by `close()`. */
  workspace?: Workspace;
  sandbox?: AttemptSandbox;
  cliLaunch?: CliLaunch;
  cli?: RunningProcess;
  stall?: IdleTimer;
  /** The sandbox limit that stopped the attempt, if one did. */
  limitStop: LimitName | null;
  /** Why the model gateway stopped the attempt: its budget message, with the spend. */
  budgetExceeded: string | null;
  /** How long the task's setup took; null while none ran. */
  setupMs: number | null;
  /** How warm the dependency cache lent to the setup was; null while no setup ran. */
  dependencyCache: DependencyCacheStatus | null;
  /** How the attempt ended, as far as it got. */
  end: AttemptEnd;
}

/** Ends the attempt with `report`; `reason` is the stop reason that decided it. */
export function endWith(report: Report, reason: StopReason | null): Ending {
  return { end: report, reason };
}

/** Whether a phase ended the attempt. */
export function ended<T>(step: Step<T>): step is Ending {
  return "end" in step;
}

/**
 * Opens an attempt: starts its timeout, heartbeat and output batcher, and listens for shutdown.
 * @example
 * const attempt = openAttempt(lease, shutdown, options);
 * try { … } finally { await attempt.close(); }
 */
export function openAttempt(lease: Lease, shutdown: AbortSignal, options: TaskRunnerOptions): Attempt {
  const { client, logger } = options;
  const taskId = lease.task_id;
  const log = logger.child({ task_id: taskId, iteration: lease.task.iteration, attempt: lease.attempt });
  const noisyLog = (options.highVolumeLogger ?? logger).child({ task_id: taskId, iteration: lease.task.iteration, attempt: lease.attempt });
  const stopping = new AbortController();
  let stopReason: StopReason | null = null;
  const stop = (reason: StopReason) => {
    if (stopReason) return;
    stopReason = reason;
    log.info({ reason }, "stopping task");
    stopping.abort(reason);
  };
  const onShutdown = () => stop("shutdown");
  shutdown.addEventListener("abort", onShutdown);
  if (shutdown.aborted) stop("shutdown");
  const timeoutTimer = setTimeout(() => stop("timed_out"), lease.task.timeout_seconds * 1000);
  options.metrics?.taskStarted(lease.task.cli);

  const adapter = options.registry.get(lease.task.cli);
  const taskEnv = TaskEnv.safeParse(lease.task.env);
  const masker = createSecretMasker([options.runnerSecret, lease.task.access_token, ...Object.values(lease.task.env), ...Object.values(adapter?.env() ?? {})]);
  const batcher = createOutputBatcher({
    leaseId: lease.lease_id,
    masker,
    post: (batch) => client.postEvents(taskId, batch),
    outputMaxBytes: options.outputMaxBytes,
    onAck: (ack) => {
      if (ack.cancel_requested) stop("canceled");
    },
    onFatal: (err) => {
      log.error({ err: describeEdgeError(err) }, "posting output failed for good");
      stop(isLeaseStale(err) ? "lease_lost" : "edge_unreachable");
    },
    onRetry: (err, attempt, delayMs) => noisyLog.warn({ err: describeEdgeError(err), attempt, retry_in_ms: delayMs }, "posting output failed; retrying"),
  });
  const heartbeat = startHeartbeat({
    client,
    taskId,
    leaseId: lease.lease_id,
    intervalMs: lease.heartbeat_interval_ms,
    logger: noisyLog,
    onCancel: () => stop("canceled"),
    onLeaseLost: () => stop("lease_lost"),
  });
  const defaults = options.budgetDefaults;
  const budget = {
    ...lease.task.budget,
    max_cost_usd: lease.task.budget.max_cost_usd ?? defaults?.maxCostUsd ?? null,
    max_tokens: lease.task.budget.max_tokens ?? defaults?.maxTokens ?? null,
    max_turns: lease.task.budget.max_turns ?? defaults?.maxTurns ?? null,
  };

  const attempt: Attempt = {
    lease,
    taskId,
    options,
    now: options.now ?? Date.now,
    log,
    noisyLog,
    shutdown,
    signal: stopping.signal,
    get stopReason() {
      return stopReason;
    },
    adapter,
    taskEnv,
    budget,
    masker,
    batcher,
    heartbeat,
    stop,
    limitStop: null,
    budgetExceeded: null,
    setupMs: null,
    dependencyCache: null,
    end: "lease_lost",
    async close() {
      clearTimeout(timeoutTimer);
      attempt.stall?.stop();
      shutdown.removeEventListener("abort", onShutdown);
      attempt.cli?.stop();
      await attempt.cli?.exited;
      if (!attempt.cli) await attempt.cliLaunch?.abandon();
      await attempt.sandbox?.close().catch((err: unknown) => log.error({ err: String(err) }, "could not close the sandbox"));
      await heartbeat.stop();
      batcher.close();
      await attempt.workspace?.remove().catch((err: unknown) => log.error({ err: String(err), dir: attempt.workspace?.dir }, "could not remove workspace"));
    },
  };
  return attempt;
}
