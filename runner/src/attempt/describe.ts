/**
 * The attempt's describe phase: what the CLI changed and spent, and whether that is a success.
 *
 * The changes are staged and summarised against the commit the task started from (the
 * size-capped patch, the changed files, the diff stat); usage and cost come from the model
 * gateway when it metered the calls, else from the CLI's own report. The CLI's session is kept
 * (before the report: the edge takes a session only from a lease that has not completed). Then
 * the outcome is decided: a sandbox limit that ended the CLI fails the task as `resource_limit`,
 * naming the limit; a turn limit or the budget as `budget_exceeded`; a stop by its reason; a
 * non-zero exit as `cli_failed`. Only a CLI that exited 0 unstopped goes on to the push.
 * @module
 */
import type { TaskResult } from "#api/index.js";
import type { OutputParser } from "../cli/cli-adapter.js";
import { gitEnv } from "../git/git-hardening.js";
import { summarizeChanges, type ChangeSummary } from "../git/git-result.js";
import type { ModelUsage } from "../sandbox/model-gateway.js";
import { describeLimit } from "../sandbox/sandbox.js";
import { withSpan } from "../telemetry/tracing.js";
import { endWith, type Attempt, type Step } from "./attempt.js";
import { failure, stoppedReport } from "./attempt-report.js";
import type { Checkout } from "./checkout.js";
import type { LaunchedCli } from "./launch.js";
import type { CliRun } from "./run.js";

/**
 * Describes the changes and decides the outcome: the result to push and report when the CLI
 * succeeded, else the end of the attempt (with the result, when the changes could be described).
 */
export async function describeRun(attempt: Attempt, launched: LaunchedCli, { baseSha, phase }: Checkout, run: CliRun): Promise<Step<TaskResult>> {
  const { lease, options, batcher, log, masker, budget } = attempt;
  const { workspace, sandbox, session, gateway } = launched;
  const { exit, reasonAtExit, durationMs, parser } = run;
  const limit = attempt.limitStop ?? (await sandbox.limitHit());
  const limitText = limit && `${describeLimit(limit, options.sandbox.limits)} was reached`;

  const git = gitEnv({ path: options.pathEnv, homeDir: workspace.homeDir });
  let summary: ChangeSummary | null = null;
  try {
    summary = await withSpan("git.result", () => summarizeChanges({ repoDir: workspace.repoDir, baseSha, env: git }));
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
    // The reported patch is masked (`attempt-report.ts`); a masked patch no longer matches the files.
    patch_masked: masker.contains(summary.patch),
    push: null,
    base_commit_sha: baseSha,
    sandbox: options.sandbox.kind,
    phases: {
      clone: phase,
      ...(attempt.setupMs !== null ? { setup: { duration_ms: Math.round(attempt.setupMs), dependency_cache: attempt.dependencyCache ?? "off" } } : {}),
    },
  };
  // Kept before the report: the edge takes a session only from a lease that has not completed.
  if (result) await session.save();
  if (limitText && (reasonAtExit === "resource_limit" || (!reasonAtExit && exit.exitCode !== 0))) {
    batcher.log("error", `Stopped: ${limitText}.`);
    return endWith({ outcome: "failed", result, error: { code: "resource_limit", message: limitText } }, null);
  }
  if (limitText && !reasonAtExit) batcher.log("warn", `${limitText[0]!.toUpperCase()}${limitText.slice(1)}; the CLI went on and succeeded.`);
  if (!reasonAtExit && parser?.turnLimitReached && budget.max_turns !== null) {
    const message = `the agent reached its turn limit (max_turns ${budget.max_turns})`;
    batcher.log("error", `Stopped: ${message}.`);
    return endWith({ outcome: "failed", result, error: { code: "budget_exceeded", message } }, null);
  }
  if (reasonAtExit === "budget_exceeded") {
    const message = attempt.budgetExceeded ?? "the task's budget was reached";
    batcher.log("error", `Stopped: ${message}.`);
    return endWith({ outcome: "failed", result, error: { code: "budget_exceeded", message } }, null);
  }
  if (reasonAtExit) return endWith(stoppedReport(reasonAtExit, result), reasonAtExit);
  if (exit.exitCode !== 0) {
    const how = exit.exitCode !== null ? `exited with code ${exit.exitCode}` : `was killed by ${exit.signal}`;
    return endWith({ ...failure("cli_failed", `${lease.task.cli} ${how}`), result }, null);
  }
  if (!result) return endWith(failure("runner_error", "the runner could not describe the changes"), null);
  return { next: result };
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
  return {
    cost_usd: cliReported?.cost_usd ?? null,
    usage: cliReported?.usage ?? null,
    usage_source: cliReported ? "cli" : null,
    model_usage: null,
    cli_reported: cliReported,
  };
}
