/**
 * The polling consumer: lease a task whenever a slot is free, run it, lease again.
 *
 * Shaped like Trigger.dev's and Buildkite's workers: everything arrives through the options
 * object, every failure is logged, and the next poll is always scheduled — at once after a
 * lease or an empty long poll (204), after a jittered backoff after an error. Only one lease
 * request is open at a time and only while a slot is free, so the runner never holds a task
 * it cannot start. While every slot is busy the runner does not poll; it only tells the edge it
 * is alive every `presenceIntervalMs`, with a lease request that takes nothing (`running` =
 * `capacity`), so its pool keeps it listed — one call per runner, however many tasks it runs.
 * `stop()` stops leasing, waits for running tasks up to a grace period, then
 * aborts the rest (their CLIs are killed and their leases lapse, so the edge re-queues them).
 *
 * Two ways to end on its own, for runners an autoscaler starts: `maxTasks` (run-once mode:
 * lease that many, stop leasing, end when they have finished) and `idleExitMs` (end after that
 * long with nothing leased and nothing running). While idle, each long poll waits no longer
 * than the idle time left, so the loop ends between polls and never abandons a poll the edge
 * might be answering with a task. In either mode a refused lease request (a bad or expired
 * credential) ends the loop too, as `refused`: waiting could not fix it.
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
  /** Lease at most this many tasks, then end once they have finished (run-once mode: 1). Unset: no limit. */
  maxTasks?: number;
  /** End after this long with nothing leased and nothing running. Unset: never. */
  idleExitMs?: number;
  backoff?: BackoffPolicy;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
  /** While every slot is busy, tell the edge the runner is alive this often (default `PRESENCE_INTERVAL_MS`). */
  presenceIntervalMs?: number;
}

/** Well inside the two minutes after which a pool forgets a runner it has not heard from. */
export const PRESENCE_INTERVAL_MS = 30_000;

/**
 * Why the loop ended: `stopped` (by `stop()`), `done` (it ran its `maxTasks`), `idle` (nothing to
 * do for `idleExitMs`), `refused` (the edge refused a lease request in a mode that ends on its own).
 */
export type LeaseLoopEnd = "stopped" | "done" | "idle" | "refused";

export interface LeaseLoopResult {
  end: LeaseLoopEnd;
  /** Tasks whose run ended with an unexpected error: a fault of the runner, not of the task. */
  faults: number;
}

export interface LeaseLoop {
  /** Starts polling; resolves once polling has ended and every leased task has finished. */
  start(): Promise<LeaseLoopResult>;
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
  const { client, run, leaseRequest, logger, maxTasks = Number.POSITIVE_INFINITY, idleExitMs, backoff = { baseMs: 500, maxMs: 30_000 } } = options;
  const concurrency = Math.min(options.concurrency, maxTasks);
  const endsOnItsOwn = maxTasks !== Number.POSITIVE_INFINITY || idleExitMs !== undefined;
  const wait = options.sleep ?? sleep;
  const now = options.now ?? Date.now;
  const stopping = new AbortController();
  const tasks = new Map<Promise<void>, AbortController>();
  let slotFreed: (() => void) | undefined;
  let polling: Promise<LeaseLoopEnd> | undefined;
  let finished: Promise<LeaseLoopResult> | undefined;
  let leased = 0;
  let faults = 0;
  let idleSince = now();

  /** How long the loop may still wait for work before it is idle for good; Infinity when it never is. */
  const idleLeftMs = () => (idleExitMs === undefined || tasks.size > 0 ? Number.POSITIVE_INFINITY : idleSince + idleExitMs - now());

  async function poll(): Promise<LeaseLoopEnd> {
    let failures = 0;
    while (!stopping.signal.aborted) {
      if (leased >= maxTasks) {
        if (tasks.size === 0) return "done";
        // Run-once: lease nothing more, but stay listed in the pool while the task runs.
        if ((await slotFreedWithin(options.presenceIntervalMs ?? PRESENCE_INTERVAL_MS)) === "waited") await sayAlive();
        continue;
      }
      if (tasks.size >= concurrency) {
        if ((await slotFreedWithin(options.presenceIntervalMs ?? PRESENCE_INTERVAL_MS)) === "waited") await sayAlive();
        continue;
      }
      const idleLeft = idleLeftMs();
      if (idleLeft <= 0) return "idle";
      try {
        const waitMs = Math.min(leaseRequest.wait_ms, Math.ceil(idleLeft));
        const lease = await client.lease({ ...leaseRequest, wait_ms: waitMs, running: tasks.size, capacity: concurrency }, stopping.signal);
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
        if (serious && endsOnItsOwn) {
          logger.error({ err: describeEdgeError(err) }, "lease request refused: not waiting for a task any longer");
          return "refused";
        }
        logger[serious ? "error" : "warn"]({ err: describeEdgeError(err), retry_in_ms: delay }, "lease request failed");
        await wait(Math.min(delay, Math.max(0, idleLeftMs())), stopping.signal);
      }
    }
    return "stopped";
  }

  /** Waits for a slot to free up, or `ms`, whichever comes first (`stop()` frees the wait too). */
  function slotFreedWithin(ms: number): Promise<"freed" | "waited"> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        slotFreed = undefined;
        resolve("waited");
      }, ms);
      slotFreed = () => {
        clearTimeout(timer);
        resolve("freed");
      };
    });
  }

  /** A lease request with no free slot: the edge takes it as "alive", and hands nothing. */
  async function sayAlive(): Promise<void> {
    try {
      const lease = await client.lease({ ...leaseRequest, wait_ms: 0, running: tasks.size, capacity: concurrency }, stopping.signal);
      // An edge from before presence requests hands work even to a full runner: run it rather than let its lease lapse.
      if (lease) launch(lease);
    } catch (err) {
      // Only the runners list is affected; the next one comes within the interval.
      if (!stopping.signal.aborted) logger.warn({ err: describeEdgeError(err) }, "presence request failed");
    }
  }

  async function runAll(): Promise<LeaseLoopResult> {
    polling = poll();
    const end = await polling;
    // No task is launched once polling has ended: these are all there will be.
    await Promise.all(tasks.keys());
    if (end === "done") logger.info({ tasks: leased }, "run-once: leased task finished, not leasing again");
    if (end === "idle") logger.info({ idle_exit_seconds: (idleExitMs ?? 0) / 1_000 }, "idle: nothing leased or running for the idle exit time");
    return { end, faults };
  }

  function launch(lease: Lease) {
    leased++;
    const abort = new AbortController();
    logger.info({ task_id: lease.task_id, attempt: lease.attempt, cli: lease.task.cli }, "leased task");
    const done: Promise<void> = run(lease, abort.signal)
      .catch((err: unknown) => {
        faults++;
        logger.error({ task_id: lease.task_id, err: describeEdgeError(err) }, "task ended with an unexpected error");
      })
      .finally(() => {
        tasks.delete(done);
        if (tasks.size === 0) idleSince = now();
        slotFreed?.();
        slotFreed = undefined;
      });
    tasks.set(done, abort);
  }

  return {
    start() {
      finished ??= runAll();
      return finished;
    },
    async stop(graceMs) {
      if (!stopping.signal.aborted) {
        logger.info({ running: tasks.size, grace_ms: graceMs }, "stopping: no new leases");
        stopping.abort();
        slotFreed?.();
      }
      await polling;
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
      return !stopping.signal.aborted && leased < maxTasks;
    },
  };
}
