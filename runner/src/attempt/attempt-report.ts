/**
 * How an attempt ends towards the edge: its outcome reported, the task handed back, or nothing.
 *
 * A stale lease means another attempt owns the task: nothing is reported. At shutdown the task
 * is handed back (`release`) so the edge re-queues it at once without spending an attempt (if
 * that fails, the lease lapses and the edge re-queues it later). Otherwise the output is flushed
 * and the outcome reported, retried through network trouble, with the task's secrets masked in
 * every text of it.
 * @module
 */
import type { Completion, TaskError, TaskResult } from "#api/index.js";
import { backoffDelayMs, sleep } from "../edge-link/backoff.js";
import { classifyEdgeError, describeEdgeError, isLeaseStale } from "../edge-link/edge-error.js";
import type { SecretMasker } from "../secrets/secret-masker.js";
import type { Attempt, Report, StopReason } from "./attempt.js";

/** At shutdown, how long the last output may take to reach the edge before the task is handed back. */
const RELEASE_FLUSH_TIMEOUT_MS = 5_000;

/**
 * Reports unless the lease is gone, or the task was stopped for shutdown. `reason` is the stop
 * reason that decided the outcome: a shutdown that arrives after the CLI finished on its own
 * does not withhold a finished task's report.
 */
export async function reportOutcome(attempt: Attempt, outcome: Report, reason: StopReason | null): Promise<void> {
  if (attempt.stopReason === "lease_lost" || reason === "lease_lost") return;
  if (reason === "shutdown") {
    attempt.end = "released";
    await releaseTask(attempt);
    return;
  }
  attempt.end = outcome.outcome;
  await sendReport(attempt, maskReport(outcome, attempt.masker));
}

/** A failure found by the runner, before or without a result. */
export function failure(code: TaskError["code"], message: string): Report {
  return { outcome: "failed", result: null, error: { code, message } };
}

/** The report of an attempt that `reason` stopped. */
export function stoppedReport(reason: StopReason, result: TaskResult | null): Report {
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

/**
 * Hands the task back at shutdown: the output so far is flushed (briefly), then the edge is
 * told to re-queue the task at once. If that fails the lease lapses and the edge re-queues
 * the task when it notices — later, and at the cost of an attempt.
 */
async function releaseTask(attempt: Attempt): Promise<void> {
  const { lease, batcher, log } = attempt;
  batcher.log("warn", "The runner is shutting down; the task is handed back to be run again.");
  try {
    await withTimeout(batcher.flush(), RELEASE_FLUSH_TIMEOUT_MS);
  } catch (err) {
    if (isLeaseStale(err)) return;
    log.warn({ err: describeEdgeError(err) }, "not all output reached the edge before the hand-back");
  }
  try {
    const ack = await attempt.options.client.release(lease.task_id, { lease_id: lease.lease_id, reason: "runner shutting down" });
    log.info({ status: ack.status }, "handed the task back");
  } catch (err) {
    log.warn({ err: describeEdgeError(err) }, "could not hand the task back; its lease will lapse");
  }
}

/** Flushes the output, then reports the outcome, retrying through network trouble (not past shutdown). */
async function sendReport(attempt: Attempt, report: Report): Promise<void> {
  const { lease, batcher, log, shutdown, now, options } = attempt;
  const completeGiveUpAfterMs = options.completeGiveUpAfterMs ?? 5 * 60_000;
  const flushTimeoutMs = options.flushTimeoutMs ?? 60_000;
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
  for (let round = 1; ; round++) {
    try {
      await options.client.complete(lease.task_id, completion);
      log.info({ outcome: report.outcome, last_batch_seq: completion.last_batch_seq }, "reported outcome");
      return;
    } catch (err) {
      const kind = classifyEdgeError(err);
      // At shutdown one more try is all there is time for.
      if (kind !== "retryable" || shutdown.aborted || now() - firstTry > completeGiveUpAfterMs) {
        log.error({ err: describeEdgeError(err), outcome: report.outcome }, "could not report the outcome");
        return;
      }
      const delay = backoffDelayMs(round);
      log.warn({ err: describeEdgeError(err), retry_in_ms: delay }, "reporting the outcome failed; retrying");
      await sleep(delay, shutdown);
    }
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
