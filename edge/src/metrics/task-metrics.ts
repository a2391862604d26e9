/**
 * What a task object reports to the `Metrics` object: its end (final status, and the time from
 * its creation to its end by status and CLI) and each webhook attempt's outcome.
 * @module
 */
import { TASK_DURATION_BUCKETS_SECONDS } from "#api/metrics.js";
import type { TaskStatus } from "#api/task.js";
import { counterSample, histogramSamples, type Sample } from "./samples.js";

export function taskEndSamples(input: { status: TaskStatus; cli: string; durationSeconds: number }): Sample[] {
  return [
    counterSample("codeforge_tasks_total", { status: input.status }),
    ...histogramSamples("codeforge_tasks_duration_seconds", { status: input.status, cli: input.cli }, input.durationSeconds, TASK_DURATION_BUCKETS_SECONDS),
  ];
}

/** `outcome`: delivered, retry, failed (given up) or gone (410). */
export function webhookAttemptSamples(outcome: string): Sample[] {
  return [counterSample("codeforge_webhook_deliveries_total", { status: outcome })];
}
