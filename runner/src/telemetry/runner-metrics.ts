/**
 * The runner's Prometheus metrics, in a registry of its own.
 *
 * - `codeforge_runner_tasks_total{outcome,cli}`: attempts by how they ended — a reported
 *   outcome (`succeeded`, `failed`, `timed_out`, `canceled`), `released` (handed back at
 *   shutdown) or `lease_lost` (another attempt owns the task);
 * - `codeforge_runner_active_tasks`: attempts running now;
 * - `codeforge_workspace_disk_usage_bytes`: what the workspace root occupies, measured at
 *   scrape time (a `du`-like walk, see `disk-usage.ts`), so the figure is never stale;
 * - `codeforge_runner_phase_duration_seconds{phase}`: how long each phase of an attempt took
 *   (`clone`, `run` — the CLI from spawn to exit — and `push`), whatever its outcome;
 * - `codeforge_runner_clone_seconds{cache}`: how long each checkout took, by where its objects
 *   came from (`off`, `cold`, `miss`, `hit`, `fallback`: see `git/mirror-clone.ts`), so a cache
 *   that stopped helping shows;
 * - `codeforge_runner_setup_seconds{outcome}`: how long tasks' setups took, by how they ended
 *   (`succeeded`, `failed`: a command failed, `timed_out`: past the setup's time limit,
 *   `stopped`: the attempt was stopped meanwhile);
 * - `codeforge_runner_lease_errors_total` / `codeforge_runner_heartbeat_errors_total`: lease
 *   requests and heartbeats that failed (the edge unreachable, refused, or answering 5xx); a
 *   shutdown's aborted requests are not errors.
 *
 * The registry is passed in (Trigger.dev's pattern): the runner builds its own, never the
 * global one, so tests read a fresh registry's text and nothing else in the process can add
 * to or clash with it.
 * @module
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { CliName, CloneCache, DependencyCacheStatus } from "#api/index.js";
import type { ModelTokens } from "../sandbox/model-gateway.js";
import { diskUsageBytes } from "../workspace/disk-usage.js";

/** The phases of an attempt whose durations are measured. */
export type RunnerPhase = "clone" | "run" | "push";

/** How a task's setup ended, as `codeforge_runner_setup_seconds` labels it. */
export type SetupOutcome = "succeeded" | "failed" | "timed_out" | "stopped";

/** A clone takes seconds, a CLI run minutes, up to the half-hour default timeout and beyond. */
export const PHASE_DURATION_BUCKETS_SECONDS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1_800, 3_600];

export interface RunnerMetrics {
  taskStarted(cli: CliName): void;
  taskFinished(cli: CliName, outcome: string): void;
  observePhase(phase: RunnerPhase, seconds: number): void;
  /** A checkout that succeeded: its duration, and where its objects came from. */
  observeClone(cache: CloneCache, seconds: number): void;
  /** A task's setup ended (`attempt/setup.ts`). */
  setupFinished(outcome: SetupOutcome, seconds: number): void;
  /** A setup was lent its repository's dependency cache (or not): how warm it was. */
  dependencyCache(cache: DependencyCacheStatus): void;
  leaseError(): void;
  heartbeatError(): void;
  /** A connection a sandbox asked for that the egress policy refused. */
  egressDenied(): void;
  /** One model call through the model gateway: the tokens the provider billed for it. */
  /** A call through the model gateway: its tokens, and its cost when the model has a price. */
  modelCall(cli: CliName, model: string, tokens: ModelTokens & { cost_usd?: number | null }): void;
}

/**
 * Runs `work` and records its duration as `phase`, whether it succeeds or throws.
 * @example
 * await timePhase(metrics, "push", () => pushBranch(...));
 */
export async function timePhase<T>(
  metrics: Pick<RunnerMetrics, "observePhase"> | undefined,
  phase: RunnerPhase,
  work: () => Promise<T>,
  now: () => number = performance.now.bind(performance),
): Promise<T> {
  const started = now();
  try {
    return await work();
  } finally {
    metrics?.observePhase(phase, Math.max(0, (now() - started) / 1_000));
  }
}

export interface RunnerMetricsOptions {
  register: Registry;
  workspaceRoot: string;
  /** Injectable for tests; defaults to the `du`-like walk. */
  measureDisk?: (root: string) => Promise<number>;
}

/**
 * @example
 * const register = new Registry();
 * const metrics = createRunnerMetrics({ register, workspaceRoot: config.workspace_root });
 * // GET /metrics → await register.metrics()
 */
export function createRunnerMetrics(options: RunnerMetricsOptions): RunnerMetrics {
  const { register, workspaceRoot, measureDisk = diskUsageBytes } = options;
  const tasks = new Counter({
    name: "codeforge_runner_tasks_total",
    help: "Task attempts this runner ended, by outcome and CLI.",
    labelNames: ["outcome", "cli"] as const,
    registers: [register],
  });
  const active = new Gauge({
    name: "codeforge_runner_active_tasks",
    help: "Task attempts running on this runner now.",
    registers: [register],
  });
  new Gauge({
    name: "codeforge_workspace_disk_usage_bytes",
    help: "Bytes the runner's workspace root occupies on disk (symlinks not followed).",
    registers: [register],
    async collect() {
      this.set(await measureDisk(workspaceRoot));
    },
  });
  const phases = new Histogram({
    name: "codeforge_runner_phase_duration_seconds",
    help: "Duration of each phase of an attempt (clone, run: the CLI from spawn to exit, push), whatever its outcome.",
    labelNames: ["phase"] as const,
    buckets: PHASE_DURATION_BUCKETS_SECONDS,
    registers: [register],
  });
  const clones = new Histogram({
    name: "codeforge_runner_clone_seconds",
    help: "Duration of each checkout that succeeded, by where its objects came from: off (no repository cache), cold (mirror made now), miss (mirror updated first), hit (mirror as it was), fallback (mirror busy or broken).",
    labelNames: ["cache"] as const,
    buckets: PHASE_DURATION_BUCKETS_SECONDS,
    registers: [register],
  });
  const setups = new Histogram({
    name: "codeforge_runner_setup_seconds",
    help: "Duration of tasks' setups (their setup commands, before the CLI), by outcome: succeeded, failed, timed_out, stopped.",
    labelNames: ["outcome"] as const,
    buckets: PHASE_DURATION_BUCKETS_SECONDS,
    registers: [register],
  });
  const dependencyCaches = new Counter({
    name: "codeforge_runner_dependency_cache_total",
    help: "Setups by their dependency cache: off (none kept), cold (made now), miss (kept, other lockfiles), hit (kept, same lockfiles), fallback (busy: none lent).",
    labelNames: ["cache"] as const,
    registers: [register],
  });
  const leaseErrors = new Counter({
    name: "codeforge_runner_lease_errors_total",
    help: "Lease requests that failed: the edge unreachable, refusing the request, or answering 5xx.",
    registers: [register],
  });
  const heartbeatErrors = new Counter({
    name: "codeforge_runner_heartbeat_errors_total",
    help: "Heartbeats that failed (a stale lease included); one lost heartbeat is harmless, a run of them loses the lease.",
    registers: [register],
  });
  const egressDenials = new Counter({
    name: "codeforge_runner_egress_denied_total",
    help: "Connections a sandboxed CLI asked the egress proxy for that the policy refused (each also an egress_denied event in its task).",
    registers: [register],
  });
  const modelTokens = new Counter({
    name: "codeforge_runner_model_tokens_total",
    help: "Tokens the model provider billed for calls through the model gateway, by CLI, model and kind (input, output, cache_read, cache_write).",
    labelNames: ["cli", "model", "kind"] as const,
    registers: [register],
  });
  const modelCalls = new Counter({
    name: "codeforge_runner_model_calls_total",
    help: "Model calls through the model gateway, by CLI and model.",
    labelNames: ["cli", "model"] as const,
    registers: [register],
  });
  const modelCost = new Counter({
    name: "codeforge_runner_model_cost_usd_total",
    help: "US dollars of the calls through the model gateway, by CLI and model, priced by the runner's price table (calls to unpriced models add nothing).",
    labelNames: ["cli", "model"] as const,
    registers: [register],
  });
  return {
    egressDenied() {
      egressDenials.inc();
    },
    modelCall(cli, model, tokens) {
      modelCalls.inc({ cli, model });
      const kinds = {
        input: tokens.input_tokens,
        output: tokens.output_tokens,
        cache_read: tokens.cache_read_input_tokens,
        cache_write: tokens.cache_creation_input_tokens,
      };
      for (const [kind, count] of Object.entries(kinds)) modelTokens.inc({ cli, model, kind }, count);
      if (tokens.cost_usd) modelCost.inc({ cli, model }, tokens.cost_usd);
    },
    observePhase(phase, seconds) {
      phases.observe({ phase }, seconds);
    },
    observeClone(cache, seconds) {
      clones.observe({ cache }, seconds);
    },
    setupFinished(outcome, seconds) {
      setups.observe({ outcome }, seconds);
    },
    dependencyCache(cache) {
      dependencyCaches.inc({ cache });
    },
    leaseError() {
      leaseErrors.inc();
    },
    heartbeatError() {
      heartbeatErrors.inc();
    },
    taskStarted() {
      active.inc();
    },
    taskFinished(cli, outcome) {
      active.dec();
      tasks.inc({ outcome, cli });
    },
  };
}
