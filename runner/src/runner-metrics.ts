/**
 * The runner's Prometheus metrics, in a registry of its own.
 *
 * - `codeforge_runner_tasks_total{outcome,cli}`: attempts by how they ended — a reported
 *   outcome (`succeeded`, `failed`, `timed_out`, `canceled`), `released` (handed back at
 *   shutdown) or `lease_lost` (another attempt owns the task);
 * - `codeforge_runner_active_tasks`: attempts running now;
 * - `codeforge_workspace_disk_usage_bytes`: what the workspace root occupies, measured at
 *   scrape time (a `du`-like walk, see `disk-usage.ts`), so the figure is never stale.
 *
 * The registry is passed in (Trigger.dev's pattern): the runner builds its own, never the
 * global one, so tests read a fresh registry's text and nothing else in the process can add
 * to or clash with it.
 * @module
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { CliName } from "../../api/index.js";
import { diskUsageBytes } from "./disk-usage.js";

export interface RunnerMetrics {
  taskStarted(cli: CliName): void;
  taskFinished(cli: CliName, outcome: string): void;
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
  return {
    taskStarted() {
      active.inc();
    },
    taskFinished(cli, outcome) {
      active.dec();
      tasks.inc({ outcome, cli });
    },
  };
}
