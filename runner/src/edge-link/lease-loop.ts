/**
 * The polling consumer: lease a task whenever a slot is free, run it, lease again.
 *
 * Shaped like Trigger.dev's and Buildkite's workers: everything arrives through the options
 * object, every failure is logged, and the next poll is always scheduled — at once after a
 * lease or an empty long poll (204), after a jittered backoff after an error. Only one lease
 * request is open at a time and only while a slot is free, so the runner never holds a task
 * it cannot start. `stop()` stops leasing, waits for running tasks up to a grace period, then
 * aborts the rest (their CLIs are killed and their leases lapse, so the edge re-queues them).
 * @module
 */
import type { Logger } from "pino";
import type { Lease, LeaseRequest } from "#api/index.js";
import { backoffDelayMs, sleep, type BackoffPolicy } from "./backoff.js";
import { classifyEdgeError, describeEdgeError } from "./edge-error.js";
import type { EdgeClient } from "./edge-client.js";

/** Runs one leased task to its end. `signal` aborts when the runner shuts down. */
export type RunTask = (lease: Lease, signal: AbortSignal) => Promise<void>;

export interface LeaseLoopOptions {
  client: Pick<EdgeClient, "lease">;
  run: RunTask;
  /** Tasks run at the same time. */
  concurrency: number;
  /** What the runner advertises: id, pool, CLIs, labels, and the long-poll wait. Its load
   * (`running`, `capacity`) is filled in on every request. */
  leaseRequest: Omit<LeaseRequest, "running" | "capacity">;
  logger: Logger;
  /** For the one line per poll answered (high volume: give it a sampled logger); none by default. */
  pollLogger?: Logger;
  backoff?: BackoffPolicy;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface LeaseLoop {
  /** Starts polling; resolves once `stop()` has completed. */
  start(): Promise<void>;
  /** Stops leasing; waits up to `graceMs` for running tasks, then aborts them and waits for them to clean up. */
  stop(graceMs: number): Promise<void>;
  /** Tasks currently running. */
  readonly running: number;
  /** False once stopping. */
  readonly accepting: boolean;
}

/**
 * @example
 * const loop = createLeaseLoop({ client, run: taskRunner.run, concurrency: 2, leaseRequest, logger });
 * void loop.start();
 * process.once("SIGTERM", () => loop.stop(30_000));
 */
export function createLeaseLoop(options: LeaseLoopOptions): LeaseLoop {
  const { client, run, concurrency, leaseRequest, logger, backoff = { baseMs: 500, maxMs: 30_000 } } = options;
  const wait = options.sleep ?? sleep;
  const stopping = new AbortController();
  const tasks = new Map<Promise<void>, AbortController>();
  let slotFreed: (() => void) | undefined;
  let loopDone: Promise<void> | undefined;

  async function poll(): Promise<void> {
    let failures = 0;
    while (!stopping.signal.aborted) {
      if (tasks.size >= concurrency) {
        await new Promise<void>((resolve) => (slotFreed = resolve));
        continue;
      }
      try {
        const lease = await client.lease({ ...leaseRequest, running: tasks.size, capacity: concurrency }, stopping.signal);
        failures = 0;
        options.pollLogger?.debug({ leased: lease?.task_id ?? null, running: tasks.size }, "lease poll answered");
        if (lease) launch(lease);
        // Yield one turn even when the edge answers at once (wait_ms 0), so polling never starves I/O.
        else await new Promise<void>((resolve) => setImmediate(resolve));
      } catch (err) {
        if (stopping.signal.aborted) break;
        failures++;
        const delay = backoffDelayMs(failures, backoff);
        // A refused signature or a rejected request will not fix itself: make it stand out.
        const serious = classifyEdgeError(err) !== "retryable";
        logger[serious ? "error" : "warn"]({ err: describeEdgeError(err), retry_in_ms: delay }, "lease request failed");
        await wait(delay, stopping.signal);
      }
    }
  }

  function launch(lease: Lease) {
    const abort = new AbortController();
    logger.info({ task_id: lease.task_id, attempt: lease.attempt, cli: lease.task.cli }, "leased task");
    const done: Promise<void> = run(lease, abort.signal)
      .catch((err: unknown) => {
        logger.error({ task_id: lease.task_id, err: describeEdgeError(err) }, "task ended with an unexpected error");
      })
      .finally(() => {
        tasks.delete(done);
        slotFreed?.();
        slotFreed = undefined;
      });
    tasks.set(done, abort);
  }

  return {
    start() {
      loopDone ??= poll();
      return loopDone;
    },
    async stop(graceMs) {
      if (!stopping.signal.aborted) {
        logger.info({ running: tasks.size, grace_ms: graceMs }, "stopping: no new leases");
        stopping.abort();
        slotFreed?.();
      }
      await loopDone;
      if (tasks.size === 0) return;
      const all = Promise.all(tasks.keys());
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<"grace_over">((resolve) => (timer = setTimeout(() => resolve("grace_over"), graceMs)));
      const first = await Promise.race([all, graceOver]);
      clearTimeout(timer);
      if (first === "grace_over") {
        logger.warn({ running: tasks.size }, "shutdown grace period over: stopping running tasks");
        for (const abort of tasks.values()) abort.abort();
        await all;
      }
    },
    get running() {
      return tasks.size;
    },
    get accepting() {
      return !stopping.signal.aborted;
    },
  };
}
