/**
 * Runs one leased attempt of a task from start to finish: the job runner.
 *
 * workspace → open the attempt's sandbox (`sandbox/`) and launch the CLI in it, held → clone
 * meanwhile (or, for a follow-up, check out where the last iteration left off; see
 * `iteration-checkout.ts`) → let the CLI start → heartbeat `running` → stream its output → wait
 * for it to exit, time out (`timeout_seconds` from the lease), be cancelled (heartbeat or event
 * ack) or pass a resource limit → describe the changes → commit and push them when the task
 * asks (`git-push.ts`) → flush the output → report the outcome → close the sandbox → remove the
 * workspace.
 *
 * Every way out of a task goes through one `stop(reason)`: the first reason wins and decides
 * the outcome (`canceled`, `timed_out`, `stalled` after `stall_timeout_seconds` without
 * output, `resource_limit` when the workspace outgrows its disk limit), or that no outcome is
 * reported at all — a stale lease means another attempt owns
 * the task, and at shutdown the task is handed back (`release`) so the edge re-queues it at
 * once without spending an attempt (if that fails, the lease lapses and the edge re-queues it
 * later). Cleanup lives in `finally` and runs whatever happened.
 *
 * A push happens only after the CLI exited 0 unstopped with changes; a push that fails fails
 * the task with `push_failed`, and the result (with its patch) is still reported.
 *
 * The task's secrets: its `access_token` goes to git only (askpass, see `git-clone.ts`); its
 * `env` — checked again against the contract's rules for names — goes into the CLI's
 * environment only, over the runner's `cli_env` for that CLI, except the model API key of a CLI
 * that goes through the model gateway (`sandbox/model-gateway.ts`): that stays with the runner,
 * and the CLI gets the gateway's URL and a placeholder. Every one of them is masked in
 * all output, log events and the completion (see `secret-masker.ts`), and so is the runner's
 * own secret, which nothing in the sandbox can read but which must never be echoed either.
 *
 * The sandbox: the CLI runs with full autonomy inside it (the task may ask for `edits` only);
 * without one (`sandbox: none`) always with edits only, and every attempt says so in its log.
 * A connection the egress policy refuses becomes an `egress_denied` event. When the CLI fails
 * after its sandbox hit the memory or process limit, the task fails as `resource_limit`, naming
 * the limit.
 * @module
 */
import type { Readable } from "node:stream";
import type { Logger } from "pino";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { TaskEnv, type CidrRange, type Completion, type Lease, type LeaseBudget, type TaskError, type TaskResult, type UsageEvent } from "../../api/index.js";
import { backoffDelayMs, sleep } from "./edge-link/backoff.js";
import type { OutputParser } from "./cli/cli-adapter.js";
import type { CliRegistry } from "./cli/registry.js";
import type { EdgeClient } from "./edge-link/edge-client.js";
import { classifyEdgeError, describeEdgeError, isLeaseStale } from "./edge-link/edge-error.js";
import { CloneError } from "./git/git-clone.js";
import { gitEnv, type GitPolicy } from "./git/git-hardening.js";
import { commitMessage } from "./git/commit-message.js";
import { commitAndPush, PushError, type CommitIdentity } from "./git/git-push.js";
import { summarizeChanges, type ChangeSummary } from "./git/git-result.js";
import { startHeartbeat } from "./edge-link/heartbeat.js";
import { startIdleTimer, type IdleTimer } from "./output/idle-timer.js";
import { checkoutIteration, taskBranch } from "./git/iteration-checkout.js";
import { createCliSession } from "./cli-session/cli-session.js";
import { createOutputBatcher, type OutputBatcher, type OutputStream } from "./output/output-batcher.js";
import type { RunningProcess } from "./sandbox/process-runner.js";
import type { HostLookup } from "./git/repo-host-check.js";
import { timePhase, type RunnerMetrics } from "./telemetry/runner-metrics.js";
import { createSecretMasker, type SecretMasker } from "./secrets/secret-masker.js";
import { filesWithSecrets } from "./secrets/secret-scan.js";
import { withRemoteParent, withSpan } from "./telemetry/tracing.js";
import { createWorkspace, type Workspace } from "./workspace/workspace.js";
import type { Autonomy } from "./cli/cli-adapter.js";
import { describeLimit, type AttemptSandbox, type CliLaunch, type LimitName, type Sandbox } from "./sandbox/sandbox.js";
import { createModelGateway, MODEL_GATEWAY_URL, type ModelUsage } from "./sandbox/model-gateway.js";
import type { ModelPriceTable } from "./sandbox/model-prices.js";

/** Why a task stopped before its CLI finished on its own. */
export type StopReason = "canceled" | "timed_out" | "stalled" | "resource_limit" | "budget_exceeded" | "lease_lost" | "shutdown" | "edge_unreachable";

/** How an attempt ended, for metrics: an outcome reported, handed back, or given up. */
export type AttemptEnd = Completion["outcome"] | "released" | "lease_lost";

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
  /** Resolves repository hosts (default: the system resolver). */
  lookup?: HostLookup;
  metrics?: RunnerMetrics;
  /** For heartbeat and output-post lines (high volume: a sampled logger); `logger` by default. */
  highVolumeLogger?: Logger;
  now?: () => number;
}

export const DEFAULT_COMMIT_IDENTITY: CommitIdentity = { name: "CodeForge", email: "codeforge@localhost" };

/** At shutdown, how long the last output may take to reach the edge before the task is handed back. */
const RELEASE_FLUSH_TIMEOUT_MS = 5_000;

export interface TaskRunner {
  /** Runs one attempt; `signal` aborts at runner shutdown. Never throws. */
  run(lease: Lease, signal: AbortSignal): Promise<void>;
}

interface Report {
  outcome: Completion["outcome"];
  result: TaskResult | null;
  error: TaskError | null;
}

/**
 * @example
 * const taskRunner = createTaskRunner({ client, registry, sandbox, workspaceRoot, gitPolicy, pathEnv, logger });
 * const loop = createLeaseLoop({ client, run: taskRunner.run, … });
 */
export function createTaskRunner(options: TaskRunnerOptions): TaskRunner {
  const { client, registry, logger, now = Date.now } = options;
  const completeGiveUpAfterMs = options.completeGiveUpAfterMs ?? 5 * 60_000;
  const flushTimeoutMs = options.flushTimeoutMs ?? 60_000;

  /** One attempt as one span (`runner.lease`), a child of the edge's lease span. */
  function run(lease: Lease, shutdown: AbortSignal): Promise<void> {
    const attributes = { "codeforge.task_id": lease.task_id, "codeforge.attempt": lease.attempt, "codeforge.cli": lease.task.cli };
    return withRemoteParent(lease.traceparent, "runner.lease", (span) => runAttempt(lease, shutdown, (end) => span.setAttribute("codeforge.attempt_end", end)), attributes);
  }

  async function runAttempt(lease: Lease, shutdown: AbortSignal, onEnd: (end: AttemptEnd) => void): Promise<void> {
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
    let attemptEnd: AttemptEnd = "lease_lost";

    const adapter = registry.get(lease.task.cli);
    const taskEnv = TaskEnv.safeParse(lease.task.env);
    const masker = createSecretMasker([
      options.runnerSecret,
      lease.task.access_token,
      ...Object.values(lease.task.env),
      ...Object.values(adapter?.env() ?? {}),
    ]);
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

    let workspace: Workspace | undefined;
    let sandbox: AttemptSandbox | undefined;
    let limitStop: LimitName | null = null;
    /** Why the model gateway stopped the attempt: its budget message, with the spend. */
    let budgetExceeded: string | null = null;
    let cliLaunch: CliLaunch | undefined;
    let cli: RunningProcess | undefined;
    let stall: IdleTimer | undefined;
    /**
     * Reports unless the lease is gone, or the task was stopped for shutdown. `reason` is the
     * stop reason that decided the outcome: a shutdown that arrives after the CLI finished on
     * its own does not withhold a finished task's report.
     */
    const report = async (outcome: Report, reason: StopReason | null = stopReason) => {
      if (stopReason === "lease_lost" || reason === "lease_lost") return;
      if (reason === "shutdown") {
        attemptEnd = "released";
        await releaseTask(lease, batcher, log);
        return;
      }
      attemptEnd = outcome.outcome;
      await sendReport(lease, batcher, maskReport(outcome, masker), log, shutdown);
    };

    try {
      if (!adapter) {
        return await report(failure("runner_error", `CLI ${lease.task.cli} is not available on this runner`));
      }
      if (!taskEnv.success) {
        const issue = taskEnv.error.issues[0];
        return await report(failure("runner_error", `the task's env was refused: ${issue?.message ?? "invalid"}`));
      }
      const ws = (workspace = await createWorkspace({ root: options.workspaceRoot, taskId, attempt: lease.attempt }));
      const { url, ref } = lease.task.repo;
      const git = gitEnv({ path: options.pathEnv, homeDir: workspace.homeDir });

      // The task's own limits, else the pool's; with what earlier attempts of the iteration spent.
      const defaults = options.budgetDefaults;
      const budget = {
        ...lease.task.budget,
        max_cost_usd: lease.task.budget.max_cost_usd ?? defaults?.maxCostUsd ?? null,
        max_tokens: lease.task.budget.max_tokens ?? defaults?.maxTokens ?? null,
        max_turns: lease.task.budget.max_turns ?? defaults?.maxTurns ?? null,
      };
      // Without a sandbox nothing bounds what a command could do: edits only, whatever was asked.
      const autonomy: Autonomy = options.sandbox.kind === "none" ? "edits" : lease.task.autonomy;
      // The sandbox is built and the CLI launched while the repository is cloned into this
      // (still empty) directory; the CLI starts once the checkout is ready (`go()` below).
      await mkdir(ws.repoDir);
      // The CLI's environment as configured; with a gateway, its key and endpoint stay out of it.
      const configuredEnv: Record<string, string> = { ...adapter.env(), ...taskEnv.data };
      const plan = options.sandbox.kind === "none" ? null : (adapter.modelGateway?.(configuredEnv, lease.task.model) ?? null);
      const gateway = plan
        ? createModelGateway({
            upstream: plan.upstream,
            prices: options.modelPrices,
            budget: { maxCostUsd: budget.max_cost_usd, maxTokens: budget.max_tokens, spentCostUsd: budget.spent_cost_usd, spentTokens: budget.spent_tokens },
            onCall: (model, call, totals) => {
              options.metrics?.modelCall(lease.task.cli, model, call);
              batcher.pushEvents([usageEvent(totals, budget)]);
            },
            onBudgetExceeded: (reason) => {
              budgetExceeded ??= reason;
              stop("budget_exceeded");
            },
          })
        : null;
      if (!gateway && (budget.max_cost_usd !== null || budget.max_tokens !== null) && adapter.egressHosts().length > 0) {
        batcher.log("warn", `The budget (max_cost_usd, max_tokens) is not enforced: ${lease.task.cli}'s model calls do not go through this runner's model gateway (${options.sandbox.kind === "none" ? "no sandbox" : "no API key configured for it on the runner"}).`);
      }
      if (plan && gateway) {
        for (const name of plan.hide) delete configuredEnv[name];
        Object.assign(configuredEnv, plan.env(MODEL_GATEWAY_URL, gateway.placeholder));
      }
      // Through the gateway, the model API is the runner's to reach, not the sandbox's.
      const modelApi = gateway ? [] : adapter.egressHosts();
      try {
        sandbox = await options.sandbox.open({
          workspace: ws,
          readOnly: await adapter.installation(),
          egress: {
            pool: [...(options.egress?.allow ?? []), ...modelApi, ...repositoryHost(url)],
            // A task narrows what else the agent may reach; its CLI's own model API stays reachable.
            task: lease.task.egress_allow && [...lease.task.egress_allow, ...modelApi],
            allowedNetworks: options.egress?.allowedNetworks ?? [],
            lookup: options.lookup,
            ...(gateway ? { gateway } : {}),
          },
          onEgressDenied: (denial) => {
            options.metrics?.egressDenied();
            noisyLog.info({ host: denial.host, port: denial.port, reason: denial.reason }, "egress denied");
            batcher.pushEvents([{ type: "egress_denied", host: denial.host.slice(0, 260), port: denial.port, reason: denial.reason.slice(0, 1_024) }]);
          },
          onLimit: (limit) => {
            limitStop ??= limit;
            stop("resource_limit");
          },
        });
      } catch (err) {
        const message = masker.mask(`the sandbox could not be set up: ${err instanceof Error ? err.message : String(err)}`);
        batcher.log("error", message);
        return await report(failure("runner_error", message));
      }
      const cliPaths = sandbox.paths;
      // A follow-up resumes the previous iteration's conversation where the CLI can (cli-session.ts).
      const cliSession = createCliSession({ adapter, lease, homeDir: ws.homeDir, client, say: (level, message) => batcher.log(level, message), log, signal: shutdown });
      const { command, args, stdin, files, env: runEnv, homeFiles } = await cliSession.prepare(adapter.command({
        prompt: lease.task.prompt,
        model: lease.task.model,
        scratchDir: cliPaths.scratch,
        repoDir: cliPaths.repo,
        autonomy,
        maxTurns: budget.max_turns,
        env: configuredEnv,
      }));
      for (const [name, content] of Object.entries(files ?? {})) {
        await writeFile(path.join(ws.scratchDir, path.basename(name)), content, { mode: 0o600 });
      }
      const settings = { ...homeFiles, ...(gateway ? plan?.homeFiles?.(MODEL_GATEWAY_URL, gateway.placeholder) : {}) };
      for (const [name, content] of Object.entries(settings)) await writeHomeFile(ws.homeDir, name, content);
      const launched = (cliLaunch = sandbox.launch({
        command,
        args,
        input: stdin,
        env: {
          PATH: options.pathEnv,
          HOME: cliPaths.home,
          TMPDIR: cliPaths.tmp,
          LANG: "C.UTF-8",
          ...runEnv,
          ...configuredEnv,
          // Last: the proxy's address is the sandbox's, not the task's to change.
          ...sandbox.env,
        },
      }));

      batcher.log("info", `Cloning ${url} (${ref ?? "default branch"})${lease.task.iteration > 1 ? ` for iteration ${lease.task.iteration}` : ""}`);
      let baseSha: string;
      let headSha: string;
      try {
        const clone = {
          url,
          ref,
          dir: workspace.repoDir,
          homeDir: workspace.homeDir,
          pathEnv: options.pathEnv,
          accessToken: lease.task.access_token,
          credentialsDir: workspace.runnerDir,
          lookup: options.lookup,
          ...options.gitPolicy,
          signal: stopping.signal,
        };
        let description: string;
        ({ baseSha, headSha, description } = await timePhase(options.metrics, "clone", () => withSpan("git.clone", () => checkoutIteration(lease.task.base, { ...clone, branch: taskBranch(lease) }))));
        batcher.log("info", description);
      } catch (err) {
        if (stopReason) return await report(stoppedReport(stopReason, null));
        const message = masker.mask(err instanceof CloneError ? err.message : `clone failed: ${String(err)}`);
        batcher.log("error", message);
        return await report(failure("clone_failed", message));
      }
      if (stopReason) return await report(stoppedReport(stopReason, null));

      const parser = adapter.createParser();
      if (options.sandbox.kind === "none") {
        log.warn("running the CLI without a sandbox (sandbox: none)");
        batcher.log("warn", "This runner has no sandbox (sandbox: none): the CLI runs with the runner's view of the machine, with edits only.");
      }
      batcher.log("info", `Starting ${lease.task.cli}${lease.task.model ? ` (model ${lease.task.model})` : ""}`);
      const spawnedAt = now();
      // The CLI's span lasts from spawn until its output is read; output posted meanwhile is its child.
      const { exit, reasonAtExit } = await withSpan("cli.run", async (cliSpan) => {
        const child = launched.go();
        cli = child;
        if (child.pid !== undefined) heartbeat.setPhase("running");
        stopping.signal.addEventListener("abort", () => child.stop());
        if (stopping.signal.aborted) child.stop();
        const stallSeconds = lease.task.stall_timeout_seconds ?? options.stallTimeoutSeconds;
        if (stallSeconds) stall = startIdleTimer(stallSeconds * 1000, () => stop("stalled"));

        const onOutput = () => stall?.touch();
        const pumps = Promise.all([pump(child.stdout, "stdout", parser, batcher, log, (chunk) => (onOutput(), cliSession.observe(chunk))), pump(child.stderr, "stderr", null, batcher, log, onOutput)]);
        const exit = await child.exited;
        options.metrics?.observePhase("run", Math.max(0, (now() - spawnedAt) / 1_000));
        stall?.stop();
        const reasonAtExit: StopReason | null = stopReason;
        await pumps;
        cliSpan.setAttributes({ "process.exit.code": exit.exitCode ?? -1, ...(reasonAtExit ? { "codeforge.stop_reason": reasonAtExit } : {}) });
        return { exit, reasonAtExit };
      }, { "codeforge.cli": lease.task.cli });
      if (parser) batcher.pushEvents(parser.end());
      const durationMs = now() - spawnedAt;

      if (exit.spawnError) {
        const message = `${lease.task.cli} could not be started: ${exit.spawnError}`;
        batcher.log("error", message);
        return await report(failure("cli_failed", message), reasonAtExit);
      }
      batcher.log(
        reasonAtExit ? "warn" : "info",
        `${lease.task.cli} ${exit.exitCode !== null ? `exited with code ${exit.exitCode}` : `was killed by ${exit.signal}`} after ${durationMs} ms`,
      );
      if (reasonAtExit === "lease_lost" || reasonAtExit === "shutdown") return await report(stoppedReport(reasonAtExit, null), reasonAtExit);
      const limit = limitStop ?? (await sandbox!.limitHit());
      const limitText = limit && `${describeLimit(limit, options.sandbox.limits)} was reached`;

      let summary: ChangeSummary | null = null;
      try {
        summary = await withSpan("git.result", () => summarizeChanges({ repoDir: ws.repoDir, baseSha, env: git }));
      } catch (err) {
        log.error({ err: String(err) }, "could not describe the changes");
        batcher.log("error", "Could not describe the changes the CLI made.");
      }
      const result: TaskResult | null = summary && {
        exit_code: exit.exitCode,
        duration_ms: Math.max(0, Math.round(durationMs)),
        ...summary,
        final_message: parser?.finalMessage ?? null,
        // What the provider billed, every call counted, when the calls went through the gateway;
        // else what the CLI said. The CLI's own figures are kept beside the gateway's.
        ...usageFigures(gateway?.usage() ?? null, parser),
        // The reported patch is masked (`maskReport`); a masked patch no longer matches the files.
        patch_masked: masker.contains(summary.patch),
        push: null,
        base_commit_sha: baseSha,
        sandbox: options.sandbox.kind,
      };
      // Kept before the report: the edge takes a session only from a lease that has not completed.
      if (result) await cliSession.save();
      if (limitText && (reasonAtExit === "resource_limit" || (!reasonAtExit && exit.exitCode !== 0))) {
        batcher.log("error", `Stopped: ${limitText}.`);
        return await report({ outcome: "failed", result, error: { code: "resource_limit", message: limitText } }, null);
      }
      if (limitText && !reasonAtExit) batcher.log("warn", `${limitText[0]!.toUpperCase()}${limitText.slice(1)}; the CLI went on and succeeded.`);
      if (!reasonAtExit && parser?.turnLimitReached && budget.max_turns !== null) {
        const message = `the agent reached its turn limit (max_turns ${budget.max_turns})`;
        batcher.log("error", `Stopped: ${message}.`);
        return await report({ outcome: "failed", result, error: { code: "budget_exceeded", message } }, null);
      }
      if (reasonAtExit === "budget_exceeded") {
        const message = budgetExceeded ?? "the task's budget was reached";
        batcher.log("error", `Stopped: ${message}.`);
        return await report({ outcome: "failed", result, error: { code: "budget_exceeded", message } }, null);
      }
      if (reasonAtExit) return await report(stoppedReport(reasonAtExit, result), reasonAtExit);
      if (exit.exitCode !== 0) {
        const how = exit.exitCode !== null ? `exited with code ${exit.exitCode}` : `was killed by ${exit.signal}`;
        return await report({ ...failure("cli_failed", `${lease.task.cli} ${how}`), result }, null);
      }
      if (!result) return await report(failure("runner_error", "the runner could not describe the changes"), null);

      // A secret of the task in the change: never pushed, and the patch says it was masked.
      const leaked = await filesWithSecrets({ repoDir: ws.repoDir, baseSha, env: git, masker });
      if (leaked.length > 0) {
        result.patch_masked = true;
        const files = `${leaked.slice(0, 5).join(", ")}${leaked.length > 5 ? ` and ${leaked.length - 5} more` : ""}`;
        if (lease.task.push) {
          const message = `the change holds a secret of this task (in ${files}); it was not pushed`;
          batcher.log("error", `Not pushing: ${message}.`);
          return await report({ outcome: "failed", result, error: { code: "secret_in_change", message } }, null);
        }
        batcher.log("warn", `The change holds a secret of this task (in ${files}): the patch shows it masked, so it does not match the files and a follow-up cannot build on it.`);
      }

      if (lease.task.push) {
        const { branch } = lease.task.push;
        batcher.log("info", `Committing the changes and pushing them to branch ${branch}`);
        const pushStartedAt = now();
        try {
          result.push = await timePhase(options.metrics, "push", () => withSpan("git.push", () => commitAndPush({
            repoDir: ws.repoDir,
            // On top of what was checked out: a follow-up's commit follows the branch's last one.
            baseSha: headSha,
            url,
            branch,
            message: masker.mask(commitMessage({ prompt: lease.task.prompt, taskId, cli: lease.task.cli, model: lease.task.model })),
            identity: options.commitIdentity ?? DEFAULT_COMMIT_IDENTITY,
            pathEnv: options.pathEnv,
            runnerDir: ws.runnerDir,
            accessToken: lease.task.access_token,
            lookup: options.lookup,
            ...options.gitPolicy,
            signal: stopping.signal,
          })));
        } catch (err) {
          const pushMs = now() - pushStartedAt;
          if (stopReason) return await report(stoppedReport(stopReason, result));
          const message = masker.mask(err instanceof PushError ? err.message : `push failed: ${String(err)}`);
          log.warn({ phase: "push", duration_ms: pushMs, err: message }, "push failed");
          batcher.log("error", `Push failed: ${message}`);
          return await report({ outcome: "failed", result, error: { code: "push_failed", message } }, null);
        }
        const pushMs = now() - pushStartedAt;
        log.info({ phase: "push", duration_ms: pushMs, branch, commit_sha: result.push?.commit_sha ?? null }, "push phase done");
        batcher.log(
          "info",
          result.push ? `Pushed commit ${result.push.commit_sha} to branch ${branch} in ${pushMs} ms` : "Nothing to push: the CLI left the repository unchanged.",
        );
        // Pushed: the work is done and reported as such, even if a stop arrived meanwhile
        // (running the task again would only find its own branch in the way).
      }
      return await report({ outcome: "succeeded", result, error: null }, null);
    } catch (err) {
      log.error({ err: err instanceof Error ? err.stack : String(err) }, "task failed inside the runner");
      await report(failure("runner_error", "the runner hit an internal error")).catch(() => undefined);
    } finally {
      clearTimeout(timeoutTimer);
      stall?.stop();
      shutdown.removeEventListener("abort", onShutdown);
      cli?.stop();
      await cli?.exited;
      if (!cli) await cliLaunch?.abandon();
      await sandbox?.close().catch((err: unknown) => log.error({ err: String(err) }, "could not close the sandbox"));
      await heartbeat.stop();
      batcher.close();
      await workspace?.remove().catch((err: unknown) => log.error({ err: String(err), dir: workspace?.dir }, "could not remove workspace"));
      options.metrics?.taskFinished(lease.task.cli, attemptEnd);
      onEnd(attemptEnd);
      log.info({ reason: stopReason, end: attemptEnd }, "task finished");
    }
  }

  /**
   * Hands the task back at shutdown: the output so far is flushed (briefly), then the edge is
   * told to re-queue the task at once. If that fails the lease lapses and the edge re-queues
   * the task when it notices — later, and at the cost of an attempt.
   */
  async function releaseTask(lease: Lease, batcher: OutputBatcher, log: Logger): Promise<void> {
    batcher.log("warn", "The runner is shutting down; the task is handed back to be run again.");
    try {
      await withTimeout(batcher.flush(), RELEASE_FLUSH_TIMEOUT_MS);
    } catch (err) {
      if (isLeaseStale(err)) return;
      log.warn({ err: describeEdgeError(err) }, "not all output reached the edge before the hand-back");
    }
    try {
      const ack = await client.release(lease.task_id, { lease_id: lease.lease_id, reason: "runner shutting down" });
      log.info({ status: ack.status }, "handed the task back");
    } catch (err) {
      log.warn({ err: describeEdgeError(err) }, "could not hand the task back; its lease will lapse");
    }
  }

  /** Flushes the output, then reports the outcome, retrying through network trouble (not past shutdown). */
  async function sendReport(lease: Lease, batcher: OutputBatcher, report: Report, log: Logger, shutdown: AbortSignal): Promise<void> {
    try {
      await withTimeout(batcher.flush(), flushTimeoutMs);
    } catch (err) {
      if (isLeaseStale(err)) return;
      log.warn({ err: describeEdgeError(err) }, "not all output reached the edge; reporting anyway");
    }
    const completion: Completion = {
      lease_id: lease.lease_id,
      outcome: report.outcome,
      result: report.result,
      error: report.error,
      last_batch_seq: batcher.lastBatchSeq,
    };
    const firstTry = now();
    for (let attempt = 1; ; attempt++) {
      try {
        await client.complete(lease.task_id, completion);
        log.info({ outcome: report.outcome, last_batch_seq: completion.last_batch_seq }, "reported outcome");
        return;
      } catch (err) {
        const kind = classifyEdgeError(err);
        // At shutdown one more try is all there is time for.
        if (kind !== "retryable" || shutdown.aborted || now() - firstTry > completeGiveUpAfterMs) {
          log.error({ err: describeEdgeError(err), outcome: report.outcome }, "could not report the outcome");
          return;
        }
        const delay = backoffDelayMs(attempt);
        log.warn({ err: describeEdgeError(err), retry_in_ms: delay }, "reporting the outcome failed; retrying");
        await sleep(delay, shutdown);
      }
    }
  }

  return { run };
}

/** Reads one output stream into the batcher; awaiting the batcher is what applies backpressure. */
async function pump(stream: Readable, name: OutputStream, parser: OutputParser | null, batcher: OutputBatcher, log: Logger, onOutput: (chunk: Buffer) => void) {
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      onOutput(chunk);
      const events = parser?.push(chunk) ?? [];
      const queued = batcher.pushOutput(name, chunk);
      batcher.pushEvents(events);
      await queued;
    }
  } catch (err) {
    log.warn({ err: String(err), stream: name }, "reading CLI output failed");
  }
}

type UsageFigures = Pick<TaskResult, "cost_usd" | "usage" | "usage_source" | "model_usage" | "cli_reported">;

/**
 * The result's usage and cost: the gateway's when it metered any call (every call of the attempt,
 * priced by the runner), else the CLI's own report; the CLI's figures are kept beside either way.
 */
function usageFigures(metered: ModelUsage | null, parser: OutputParser | null): UsageFigures {
  const cliReported = parser && (parser.usage !== null || parser.costUsd !== null) ? { cost_usd: parser.costUsd, usage: parser.usage } : null;
  if (metered && metered.calls > 0) {
    const { input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens } = metered;
    return {
      cost_usd: metered.cost_usd,
      usage: { input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens },
      usage_source: "gateway",
      model_usage: metered.by_model,
      cli_reported: cliReported,
    };
  }
  return { cost_usd: cliReported?.cost_usd ?? null, usage: cliReported?.usage ?? null, usage_source: cliReported ? "cli" : null, model_usage: null, cli_reported: cliReported };
}

/** The attempt's running totals as a `usage` event, with the iteration's budget when it has one. */
function usageEvent(totals: ModelUsage, budget: LeaseBudget): UsageEvent {
  const { calls, input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, cost_usd } = totals;
  return {
    type: "usage",
    calls,
    input_tokens,
    output_tokens,
    cache_read_input_tokens,
    cache_creation_input_tokens,
    cost_usd,
    ...(budget.max_cost_usd !== null ? { max_cost_usd: budget.max_cost_usd } : {}),
    ...(budget.max_tokens !== null ? { max_tokens: budget.max_tokens } : {}),
  };
}

/** Writes a CLI settings file under the attempt's HOME; a name that would leave HOME is refused. */
async function writeHomeFile(homeDir: string, name: string, content: string): Promise<void> {
  const target = path.resolve(homeDir, name);
  if (!target.startsWith(`${path.resolve(homeDir)}${path.sep}`)) throw new Error(`settings file ${name} is outside HOME`);
  await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
  await writeFile(target, content, { mode: 0o600 });
}

/** The repository's host as an egress pattern (an agent may fetch from where its code came from). */
function repositoryHost(url: string): string[] {
  try {
    const { protocol, hostname, port } = new URL(url);
    if (protocol !== "https:" && protocol !== "http:") return [];
    return [port ? `${hostname}:${port}` : hostname];
  } catch {
    return [];
  }
}

function failure(code: TaskError["code"], message: string): Report {
  return { outcome: "failed", result: null, error: { code, message } };
}

function stoppedReport(reason: StopReason, result: TaskResult | null): Report {
  switch (reason) {
    case "canceled":
      return { outcome: "canceled", result, error: { code: "canceled", message: "the task was canceled" } };
    case "timed_out":
      return { outcome: "timed_out", result, error: { code: "timed_out", message: "the task ran past its timeout" } };
    case "stalled":
      return { outcome: "failed", result, error: { code: "stalled", message: "the CLI printed nothing for longer than the stall timeout" } };
    case "resource_limit":
      return { outcome: "failed", result, error: { code: "resource_limit", message: "a sandbox limit was reached" } };
    case "budget_exceeded":
      return { outcome: "failed", result, error: { code: "budget_exceeded", message: "the task's budget was reached" } };
    case "edge_unreachable":
      return { outcome: "failed", result, error: { code: "runner_error", message: "the runner lost contact with the edge while streaming output" } };
    default:
      // lease_lost and shutdown are never reported; this value is not sent.
      return { outcome: "failed", result, error: { code: "runner_lost", message: reason } };
  }
}

/** The report with the task's secrets masked in every text that leaves the runner. */
function maskReport(report: Report, masker: SecretMasker): Report {
  if (masker.empty) return report;
  const result = report.result && {
    ...report.result,
    patch: masker.mask(report.result.patch),
    final_message: report.result.final_message === null ? null : masker.mask(report.result.final_message),
    changed_files: report.result.changed_files.map((file) => ({ ...file, path: masker.mask(file.path) })),
  };
  const error = report.error && { ...report.error, message: masker.mask(report.error.message) };
  return { ...report, result, error };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
