/**
 * The attempt's first phase: its workspace, its sandbox, and its CLI launched there, held.
 *
 * The sandbox is built and the CLI launched while the repository is cloned into the (still
 * empty) checkout directory; the CLI starts once the checkout is ready (`run.ts`). The task's
 * `env` — checked again against the contract's rules for names — goes into the CLI's
 * environment only, over the runner's `cli_env` for that CLI, except the model API key of a CLI
 * that goes through the model gateway (`sandbox/model-gateway.ts`): that stays with the runner,
 * and the CLI gets the gateway's URL and a placeholder. Without a sandbox (`sandbox: none`) the
 * CLI runs with edits only, whatever the task asked. A follow-up resumes the previous
 * iteration's conversation where the CLI can (`cli-session/cli-session.ts`).
 * @module
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { LeaseBudget, UsageEvent } from "#api/index.js";
import type { Autonomy, CliAdapter } from "../cli/cli-adapter.js";
import { createCliSession, type CliSessionKeeper } from "../cli-session/cli-session.js";
import { createModelGateway, MODEL_GATEWAY_URL, type ModelGateway, type ModelUsage } from "../sandbox/model-gateway.js";
import type { AttemptSandbox, CliLaunch } from "../sandbox/sandbox.js";
import { createWorkspace, type Workspace } from "../workspace/workspace.js";
import { endWith, type Attempt, type Step } from "./attempt.js";
import { failure } from "./attempt-report.js";

/** What the later phases work with. */
export interface LaunchedCli {
  adapter: CliAdapter;
  workspace: Workspace;
  sandbox: AttemptSandbox;
  /** The CLI, ready to start. */
  launch: CliLaunch;
  session: CliSessionKeeper;
  /** The model gateway the CLI's calls go through; null when they go straight to the API. */
  gateway: ModelGateway | null;
}

/**
 * Creates the workspace, opens the sandbox and launches the CLI in it, held; ends the attempt
 * when this runner lacks the CLI, the task's env is refused, or the sandbox cannot be set up.
 */
export async function launchCli(attempt: Attempt): Promise<Step<LaunchedCli>> {
  const { lease, options, adapter, taskEnv, budget, batcher, masker } = attempt;
  if (!adapter) {
    return endWith(failure("runner_error", `CLI ${lease.task.cli} is not available on this runner`), attempt.stopReason);
  }
  if (!taskEnv.success) {
    const issue = taskEnv.error.issues[0];
    return endWith(failure("runner_error", `the task's env was refused: ${issue?.message ?? "invalid"}`), attempt.stopReason);
  }
  const ws = (attempt.workspace = await createWorkspace({ root: options.workspaceRoot, taskId: attempt.taskId, attempt: lease.attempt }));
  // Without a sandbox nothing bounds what a command could do: edits only, whatever was asked.
  const autonomy: Autonomy = options.sandbox.kind === "none" ? "edits" : lease.task.autonomy;
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
          attempt.budgetExceeded ??= reason;
          attempt.stop("budget_exceeded");
        },
      })
    : null;
  if (!gateway && (budget.max_cost_usd !== null || budget.max_tokens !== null) && adapter.egressHosts().length > 0) {
    batcher.log(
      "warn",
      `The budget (max_cost_usd, max_tokens) is not enforced: ${lease.task.cli}'s model calls do not go through this runner's model gateway (${options.sandbox.kind === "none" ? "no sandbox" : "no API key configured for it on the runner"}).`,
    );
  }
  if (plan && gateway) {
    for (const name of plan.hide) delete configuredEnv[name];
    Object.assign(configuredEnv, plan.env(MODEL_GATEWAY_URL, gateway.placeholder));
  }
  // Through the gateway, the model API is the runner's to reach, not the sandbox's.
  const modelApi = gateway ? [] : adapter.egressHosts();
  let sandbox: AttemptSandbox;
  try {
    sandbox = attempt.sandbox = await options.sandbox.open({
      workspace: ws,
      readOnly: await adapter.installation(),
      egress: {
        pool: [...(options.egress?.allow ?? []), ...modelApi, ...repositoryHost(lease.task.repo.url)],
        // A task narrows what else the agent may reach; its CLI's own model API stays reachable.
        task: lease.task.egress_allow && [...lease.task.egress_allow, ...modelApi],
        allowedNetworks: options.egress?.allowedNetworks ?? [],
        lookup: options.lookup,
        ...(gateway ? { gateway } : {}),
      },
      onEgressDenied: (denial) => {
        options.metrics?.egressDenied();
        attempt.noisyLog.info({ host: denial.host, port: denial.port, reason: denial.reason }, "egress denied");
        batcher.pushEvents([{ type: "egress_denied", host: denial.host.slice(0, 260), port: denial.port, reason: denial.reason.slice(0, 1_024) }]);
      },
      onLimit: (limit) => {
        attempt.limitStop ??= limit;
        attempt.stop("resource_limit");
      },
    });
  } catch (err) {
    const message = masker.mask(`the sandbox could not be set up: ${err instanceof Error ? err.message : String(err)}`);
    batcher.log("error", message);
    return endWith(failure("runner_error", message), attempt.stopReason);
  }
  const cliPaths = sandbox.paths;
  const session = createCliSession({
    adapter,
    lease,
    homeDir: ws.homeDir,
    client: options.client,
    say: (level, message) => batcher.log(level, message),
    log: attempt.log,
    signal: attempt.shutdown,
  });
  const {
    command,
    args,
    stdin,
    files,
    env: runEnv,
    homeFiles,
  } = await session.prepare(
    adapter.command({
      prompt: lease.task.prompt,
      model: lease.task.model,
      scratchDir: cliPaths.scratch,
      repoDir: cliPaths.repo,
      autonomy,
      maxTurns: budget.max_turns,
      env: configuredEnv,
    }),
  );
  for (const [name, content] of Object.entries(files ?? {})) {
    await writeFile(path.join(ws.scratchDir, path.basename(name)), content, { mode: 0o600 });
  }
  const settings = { ...homeFiles, ...(gateway ? plan?.homeFiles?.(MODEL_GATEWAY_URL, gateway.placeholder) : {}) };
  for (const [name, content] of Object.entries(settings)) await writeHomeFile(ws.homeDir, name, content);
  const launch = (attempt.cliLaunch = sandbox.launch({
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
  return { next: { adapter, workspace: ws, sandbox, launch, session, gateway } };
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
export function repositoryHost(url: string): string[] {
  try {
    const { protocol, hostname, port } = new URL(url);
    if (protocol !== "https:" && protocol !== "http:") return [];
    return [port ? `${hostname}:${port}` : hostname];
  } catch {
    return [];
  }
}
