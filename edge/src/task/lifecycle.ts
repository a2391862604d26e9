/**
 * The task state machine, as pure functions: (state, command, now) → decision.
 *
 *   queued → leased → running → succeeded | failed | timed_out | canceled
 *                                      └── follow-up ──▶ queued (iteration n+1)
 *
 * Nothing here touches storage, sockets or the clock; the task object feeds in `now`, and
 * `status-recorder.ts` applies the new state, writes the status changes to the log and carries
 * out the effects. Every lifecycle deadline (lease expiry, attempt timeout, cancel grace,
 * re-queue check) is derived from the state by `nextDeadline`, which `lifecycle-timers.ts`
 * reports to the object's single alarm (`alarm-schedule.ts`).
 * @module
 */
import type { ErrorCode } from "#api/errors.js";
import { isTerminal, type TaskStatus } from "#api/task.js";
import type { TaskError } from "#api/task-result.js";

/** While queued, the object re-offers itself to its dispatcher this often (idempotent), so a
 * task taken off the queue by a runner whose request then died is never lost. */
export const REQUEUE_CHECK_MS = 30_000;

/** After a hand-off to a waiting runner, a timer in memory (`status-recorder.ts`) checks this soon
 * that the lease came: a runner that hung up its long poll never leases, and the task must not
 * sit unoffered until the next re-queue check. */
export const HANDOFF_CHECK_MS = 5_000;

/** After an attempt's timeout the runner kills the CLI and reports; the edge waits this much
 * longer before declaring the attempt timed out itself (runner gone or unreachable). */
export const TIMEOUT_GRACE_MS = 30_000;

export interface LifecycleState {
  status: TaskStatus;
  /** 1, then one more per follow-up; everything below describes the current iteration. */
  iteration: number;
  attempt: number;
  /** The last attempt number allowed: `max_attempts`, moved one further by every release. */
  maxAttempts: number;
  timeoutMs: number;
  runnerId: string | null;
  /** SHA-256 of the current lease id; the lease id itself is never stored. */
  leaseHash: string | null;
  leaseExpiresAt: number | null;
  attemptStartedAt: number | null;
  cancelRequestedAt: number | null;
  requeueAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  /** Last runner event batch stored in this attempt. */
  lastBatchSeq: number;
  /** Lease whose runner reported the task's end, so a retried report is answered, not refused. */
  completedLeaseHash: string | null;
  error: TaskError | null;
}

export interface Timing {
  leaseTtlMs: number;
  /** How long a leased task may take to confirm a cancel before the edge ends it anyway. */
  cancelGraceMs: number;
}

/** A status change to append to the task's log. */
export interface StatusChange {
  status: TaskStatus;
  runnerId: string | null;
  error: TaskError | null;
  /** Why, when `error` does not say it (a task handed back and re-queued). */
  reason?: string;
}

/**
 * What the object asks of its dispatcher: queue the task, take it off the queue, or free the
 * concurrency slot of its key because it stopped running (`release`, on every end of a leased
 * or running task, whatever ended it: report, cancel, timeout, lost runner).
 */
export type Effect = "enqueue" | "dequeue" | "release";

export type Decision = { ok: true; state: LifecycleState; changes: StatusChange[]; effects: Effect[] } | { ok: false; code: ErrorCode; message: string };

const refuse = (code: ErrorCode, message: string): Decision => ({ ok: false, code, message });

/** The state of a task just created. */
export function initialState(input: { maxAttempts: number; timeoutMs: number; now: number }): {
  state: LifecycleState;
  changes: StatusChange[];
  effects: Effect[];
} {
  return {
    state: {
      status: "queued",
      iteration: 1,
      attempt: 0,
      maxAttempts: input.maxAttempts,
      timeoutMs: input.timeoutMs,
      runnerId: null,
      leaseHash: null,
      leaseExpiresAt: null,
      attemptStartedAt: null,
      cancelRequestedAt: null,
      requeueAt: input.now + REQUEUE_CHECK_MS,
      startedAt: null,
      finishedAt: null,
      lastBatchSeq: 0,
      completedLeaseHash: null,
      error: null,
    },
    changes: [{ status: "queued", runnerId: null, error: null }],
    effects: ["enqueue"],
  };
}

/** A runner asks for the task. Only a queued, uncanceled task can be leased. */
export function lease(s: LifecycleState, cmd: { runnerId: string; leaseHash: string; now: number }, t: Timing): Decision {
  if (s.status !== "queued") return refuse("invalid_state", `task is ${s.status}`);
  const state: LifecycleState = {
    ...s,
    status: "leased",
    attempt: s.attempt + 1,
    runnerId: cmd.runnerId,
    leaseHash: cmd.leaseHash,
    leaseExpiresAt: cmd.now + t.leaseTtlMs,
    attemptStartedAt: cmd.now,
    requeueAt: null,
    lastBatchSeq: 0,
    error: null,
  };
  return { ok: true, state, changes: [{ status: "leased", runnerId: cmd.runnerId, error: null }], effects: [] };
}

/**
 * Refuses writes from anyone but the holder of the current, unexpired lease. A lease past its
 * expiry is refused even before the alarm has re-queued the task: a runner that was frozen (or
 * cut off) for longer than the TTL must not revive an attempt the edge is about to give away.
 */
export function checkLease(s: LifecycleState, leaseHash: string, now: number): Decision | null {
  if ((s.status !== "leased" && s.status !== "running") || s.leaseHash !== leaseHash) {
    return refuse("lease_stale", "this lease is no longer valid for the task");
  }
  if (s.leaseExpiresAt !== null && now >= s.leaseExpiresAt) return refuse("lease_stale", "this lease expired");
  return null;
}

/** The lease holder renews its lease; the first `running` heartbeat starts the task. */
export function heartbeat(s: LifecycleState, cmd: { leaseHash: string; phase: "preparing" | "running"; now: number }, t: Timing): Decision {
  const stale = checkLease(s, cmd.leaseHash, cmd.now);
  if (stale) return stale;
  const starting = cmd.phase === "running" && s.status === "leased";
  const state: LifecycleState = {
    ...s,
    leaseExpiresAt: cmd.now + t.leaseTtlMs,
    ...(starting ? { status: "running" as const, startedAt: s.startedAt ?? cmd.now } : {}),
  };
  const changes: StatusChange[] = starting ? [{ status: "running", runnerId: s.runnerId, error: null }] : [];
  return { ok: true, state, changes, effects: [] };
}

/**
 * Whether a heartbeat must store the lease deadline it renewed: only once fewer than half a TTL
 * is left of the stored one (or none is). Otherwise it stays in memory (`TaskHost.holdLease`);
 * the stored deadline is never later than the real one and at most half a TTL earlier.
 */
export function leaseNeedsStoring(storedExpiresAt: number | null, now: number, t: Timing): boolean {
  return storedExpiresAt === null || storedExpiresAt - now < t.leaseTtlMs / 2;
}

/** Accepts runner event batch `batchSeq`: the next one stores, an old one is a harmless retry. */
export function acceptBatch(
  s: LifecycleState,
  cmd: { leaseHash: string; batchSeq: number; now: number },
): { ok: true; duplicate: boolean; state: LifecycleState } | { ok: false; code: ErrorCode; message: string } {
  const stale = checkLease(s, cmd.leaseHash, cmd.now);
  if (stale && !stale.ok) return stale;
  if (cmd.batchSeq <= s.lastBatchSeq) return { ok: true, duplicate: true, state: s };
  if (cmd.batchSeq !== s.lastBatchSeq + 1) {
    return { ok: false, code: "sequence_gap", message: `expected batch_seq ${s.lastBatchSeq + 1}, got ${cmd.batchSeq}` };
  }
  return { ok: true, duplicate: false, state: { ...s, lastBatchSeq: cmd.batchSeq } };
}

/** The lease holder reports the attempt's outcome; the task ends. */
export function complete(
  s: LifecycleState,
  cmd: {
    leaseHash: string;
    outcome: "succeeded" | "failed" | "timed_out" | "canceled";
    error: TaskError | null;
    lastBatchSeq: number;
    now: number;
  },
): Decision {
  // The runner retried a report whose answer it lost: the task already ended by it.
  if (s.completedLeaseHash !== null && s.completedLeaseHash === cmd.leaseHash) return { ok: true, state: s, changes: [], effects: [] };
  const stale = checkLease(s, cmd.leaseHash, cmd.now);
  if (stale) return stale;
  if (cmd.lastBatchSeq !== s.lastBatchSeq) {
    return refuse("sequence_gap", `runner sent batches up to ${cmd.lastBatchSeq} but ${s.lastBatchSeq} arrived; send the rest first`);
  }
  const error = cmd.outcome === "succeeded" ? null : (cmd.error ?? defaultError(cmd.outcome));
  return finish({ ...s, completedLeaseHash: cmd.leaseHash }, cmd.outcome, error, cmd.now, []);
}

/**
 * The lease holder hands the task back without finishing it (it is shutting down). The task is
 * queued again at once for another runner, and the attempt does not count against
 * `max_attempts`: the attempt budget moves one further. A task already asked to cancel ends.
 */
export function release(s: LifecycleState, cmd: { leaseHash: string; reason: string; now: number }): Decision {
  const stale = checkLease(s, cmd.leaseHash, cmd.now);
  if (stale) return stale;
  const who = s.runnerId ?? "unknown runner";
  if (s.cancelRequestedAt !== null) {
    return finish(s, "canceled", { code: "canceled", message: `canceled; runner ${who} handed it back before it ended` }, cmd.now, []);
  }
  const why = cmd.reason.trim() || "no reason given";
  const state: LifecycleState = {
    ...s,
    status: "queued",
    maxAttempts: s.maxAttempts + 1,
    runnerId: null,
    leaseHash: null,
    leaseExpiresAt: null,
    attemptStartedAt: null,
    requeueAt: cmd.now + REQUEUE_CHECK_MS,
    error: null,
  };
  const reason = `runner ${who} handed the task back (${why}); re-queued without counting attempt ${s.attempt}`;
  return { ok: true, state, changes: [{ status: "queued", runnerId: null, error: null, reason }], effects: ["enqueue"] };
}

/** The task cannot run at all (its secrets no longer open): it fails now, whatever it was doing. */
export function abandon(s: LifecycleState, cmd: { error: TaskError; now: number }): Decision {
  if (isTerminal(s.status)) return refuse("invalid_state", `task already ended as ${s.status}`);
  return finish(s, "failed", cmd.error, cmd.now, ["dequeue"]);
}

/** A client cancels: a queued task ends now; a leased one is told through its heartbeat. */
export function cancel(s: LifecycleState, cmd: { now: number }): Decision {
  if (isTerminal(s.status)) return refuse("invalid_state", `task already ended as ${s.status}`);
  if (s.status === "queued") {
    return finish(s, "canceled", { code: "canceled", message: "canceled before it started" }, cmd.now, ["dequeue"]);
  }
  if (s.cancelRequestedAt !== null) return { ok: true, state: s, changes: [], effects: [] };
  return { ok: true, state: { ...s, cancelRequestedAt: cmd.now }, changes: [], effects: [] };
}

/**
 * A client gives an ended task a follow-up: iteration n+1 starts queued, with its own attempts
 * (`max_attempts` again), timeout, lease and log of status changes. Only an ended task takes
 * one: a task still queued or running is refused (cancel it first, or wait).
 */
export function followUp(s: LifecycleState, cmd: { maxAttempts: number; timeoutMs: number; iterationsMax: number; now: number }): Decision {
  if (!isTerminal(s.status)) {
    return refuse("invalid_state", `task is ${s.status}: a follow-up can be given once it has ended (wait for it, or cancel it first)`);
  }
  if (s.iteration >= cmd.iterationsMax) {
    return refuse("invalid_state", `task has had ${s.iteration} iterations, the most one task may have; submit a new task`);
  }
  const state: LifecycleState = {
    ...initialState({ maxAttempts: cmd.maxAttempts, timeoutMs: cmd.timeoutMs, now: cmd.now }).state,
    iteration: s.iteration + 1,
  };
  return { ok: true, state, changes: [{ status: "queued", runnerId: null, error: null }], effects: ["enqueue"] };
}

/**
 * `HANDOFF_CHECK_MS` after the dispatcher handed attempt `attempt` of `iteration` to a waiting
 * runner: if no lease came since (still queued, the same attempt), offer the task again.
 */
export function handOffUnclaimed(s: LifecycleState, cmd: { iteration: number; attempt: number; now: number }): Decision {
  if (s.status !== "queued" || s.iteration !== cmd.iteration || s.attempt !== cmd.attempt) return { ok: true, state: s, changes: [], effects: [] };
  return { ok: true, state: { ...s, requeueAt: cmd.now + REQUEUE_CHECK_MS }, changes: [], effects: ["enqueue"] };
}

/** What the alarm does at `now`: re-offer a queued task, or end or retry a lapsed attempt. */
export function onAlarm(s: LifecycleState, now: number, t: Timing): Decision {
  if (s.status === "queued") {
    if (s.requeueAt !== null && now >= s.requeueAt) {
      return { ok: true, state: { ...s, requeueAt: now + REQUEUE_CHECK_MS }, changes: [], effects: ["enqueue"] };
    }
    return { ok: true, state: s, changes: [], effects: [] };
  }
  if (s.status !== "leased" && s.status !== "running") return { ok: true, state: s, changes: [], effects: [] };

  if (s.cancelRequestedAt !== null && now >= s.cancelRequestedAt + t.cancelGraceMs) {
    return finish(s, "canceled", { code: "canceled", message: "canceled; the runner did not confirm in time" }, now, []);
  }
  if (s.attemptStartedAt !== null && now >= s.attemptStartedAt + s.timeoutMs + TIMEOUT_GRACE_MS) {
    return finish(s, "timed_out", { code: "timed_out", message: `no result within ${s.timeoutMs / 1000} s` }, now, []);
  }
  if (s.leaseExpiresAt !== null && now >= s.leaseExpiresAt) {
    const who = s.runnerId ?? "unknown runner";
    if (s.cancelRequestedAt !== null) {
      return finish(s, "canceled", { code: "canceled", message: `canceled; runner ${who} stopped reporting` }, now, []);
    }
    if (s.attempt >= s.maxAttempts) {
      const message = `runner ${who} stopped reporting; gave up after ${s.attempt} attempt(s)`;
      return finish(s, "failed", { code: "runner_lost", message }, now, []);
    }
    const error: TaskError = { code: "runner_lost", message: `runner ${who} stopped reporting; retrying (attempt ${s.attempt + 1} of ${s.maxAttempts})` };
    const state: LifecycleState = {
      ...s,
      status: "queued",
      runnerId: null,
      leaseHash: null,
      leaseExpiresAt: null,
      attemptStartedAt: null,
      requeueAt: now + REQUEUE_CHECK_MS,
      error,
    };
    return { ok: true, state, changes: [{ status: "queued", runnerId: null, error }], effects: ["enqueue"] };
  }
  return { ok: true, state: s, changes: [], effects: [] };
}

/** The earliest moment the lifecycle needs the alarm for this state, or null when nothing is pending. */
export function nextDeadline(s: LifecycleState, t: Timing): number | null {
  const candidates: (number | null)[] = [];
  if (s.status === "queued") candidates.push(s.requeueAt);
  if (s.status === "leased" || s.status === "running") {
    candidates.push(s.leaseExpiresAt);
    candidates.push(s.attemptStartedAt === null ? null : s.attemptStartedAt + s.timeoutMs + TIMEOUT_GRACE_MS);
    candidates.push(s.cancelRequestedAt === null ? null : s.cancelRequestedAt + t.cancelGraceMs);
  }
  const due = candidates.filter((c): c is number => c !== null);
  return due.length ? Math.min(...due) : null;
}

function finish(s: LifecycleState, status: TaskStatus, error: TaskError | null, now: number, effects: Effect[]): Decision {
  const held = s.status === "leased" || s.status === "running";
  const state: LifecycleState = {
    ...s,
    status,
    error,
    leaseHash: null,
    leaseExpiresAt: null,
    requeueAt: null,
    finishedAt: now,
  };
  return { ok: true, state, changes: [{ status, runnerId: s.runnerId, error }], effects: held ? [...effects, "release"] : effects };
}

function defaultError(outcome: "failed" | "timed_out" | "canceled"): TaskError {
  switch (outcome) {
    case "failed":
      return { code: "cli_failed", message: "the CLI failed" };
    case "timed_out":
      return { code: "timed_out", message: "the attempt ran out of time" };
    case "canceled":
      return { code: "canceled", message: "canceled" };
  }
}
