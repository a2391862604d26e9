/**
 * Unit: the pure task state machine in `edge/src/task/lifecycle.ts` — transitions, retries,
 * lease fencing and the single "earliest deadline" alarm.
 */
import { describe, expect, it } from "vitest";
import * as lifecycle from "../../edge/src/task/lifecycle.js";
import { HANDOFF_CHECK_MS, REQUEUE_CHECK_MS, TIMEOUT_GRACE_MS, type LifecycleState, type Timing } from "../../edge/src/task/lifecycle.js";

const T0 = 1_700_000_000_000;
const timing: Timing = { leaseTtlMs: 30_000, cancelGraceMs: 19_000 };

function queued(overrides: { maxAttempts?: number; timeoutMs?: number } = {}): LifecycleState {
  return lifecycle.initialState({ maxAttempts: overrides.maxAttempts ?? 3, timeoutMs: overrides.timeoutMs ?? 600_000, now: T0 }).state;
}

/** Unwraps a decision that must succeed. */
function ok(decision: lifecycle.Decision): Extract<lifecycle.Decision, { ok: true }> {
  if (!decision.ok) throw new Error(`expected ok, got ${decision.code}: ${decision.message}`);
  return decision;
}

function leased(s: LifecycleState, now: number, leaseHash = "hash-1", runnerId = "runner-1"): LifecycleState {
  return ok(lifecycle.lease(s, { runnerId, leaseHash, now }, timing)).state;
}

function running(s: LifecycleState, now: number, leaseHash = "hash-1"): LifecycleState {
  return ok(lifecycle.heartbeat(s, { leaseHash, phase: "running", now }, timing)).state;
}

describe("lifecycle", () => {
  it("starts queued, asks to be enqueued and to re-check the queue later", () => {
    const start = lifecycle.initialState({ maxAttempts: 3, timeoutMs: 60_000, now: T0 });
    expect(start.state).toMatchObject({ status: "queued", attempt: 0, requeueAt: T0 + REQUEUE_CHECK_MS, lastBatchSeq: 0 });
    expect(start.changes).toEqual([{ status: "queued", runnerId: null, error: null }]);
    expect(start.effects).toEqual(["enqueue"]);
  });

  it("goes queued → leased → running → succeeded", () => {
    const l = ok(lifecycle.lease(queued(), { runnerId: "r", leaseHash: "h", now: T0 + 1 }, timing));
    expect(l.state).toMatchObject({ status: "leased", attempt: 1, runnerId: "r", leaseHash: "h", leaseExpiresAt: T0 + 1 + 30_000, requeueAt: null });
    expect(l.changes).toEqual([{ status: "leased", runnerId: "r", error: null }]);

    const prep = ok(lifecycle.heartbeat(l.state, { leaseHash: "h", phase: "preparing", now: T0 + 2 }, timing));
    expect(prep.state.status).toBe("leased");
    expect(prep.changes).toEqual([]);

    const run = ok(lifecycle.heartbeat(prep.state, { leaseHash: "h", phase: "running", now: T0 + 3 }, timing));
    expect(run.state).toMatchObject({ status: "running", startedAt: T0 + 3, leaseExpiresAt: T0 + 3 + 30_000 });
    expect(run.changes).toEqual([{ status: "running", runnerId: "r", error: null }]);
    // A second running heartbeat renews without another status change.
    const again = ok(lifecycle.heartbeat(run.state, { leaseHash: "h", phase: "running", now: T0 + 4 }, timing));
    expect(again.changes).toEqual([]);
    expect(again.state.startedAt).toBe(T0 + 3);

    const done = ok(
      lifecycle.complete(again.state, {
        leaseHash: "h",
        outcome: "succeeded",
        error: { code: "cli_failed", message: "ignored" },
        lastBatchSeq: 0,
        now: T0 + 5,
      }),
    );
    expect(done.state).toMatchObject({ status: "succeeded", error: null, finishedAt: T0 + 5, leaseHash: null, leaseExpiresAt: null });
    expect(done.changes).toEqual([{ status: "succeeded", runnerId: "r", error: null }]);
  });

  it("refuses to lease anything but a queued task", () => {
    const l = leased(queued(), T0);
    expect(lifecycle.lease(l, { runnerId: "other", leaseHash: "h2", now: T0 }, timing)).toMatchObject({ ok: false, code: "invalid_state" });
    const canceled = ok(lifecycle.cancel(queued(), { now: T0 })).state;
    expect(lifecycle.lease(canceled, { runnerId: "r", leaseHash: "h", now: T0 }, timing)).toMatchObject({ ok: false, code: "invalid_state" });
  });

  it("refuses stale leases on heartbeat, batch and complete", () => {
    const s = running(leased(queued(), T0), T0);
    expect(lifecycle.heartbeat(s, { leaseHash: "other", phase: "running", now: T0 }, timing)).toMatchObject({ ok: false, code: "lease_stale" });
    expect(lifecycle.acceptBatch(s, { leaseHash: "other", batchSeq: 1, now: T0 })).toMatchObject({ ok: false, code: "lease_stale" });
    expect(lifecycle.complete(s, { leaseHash: "other", outcome: "failed", error: null, lastBatchSeq: 0, now: T0 })).toMatchObject({
      ok: false,
      code: "lease_stale",
    });
    // Once the task ended, even the right lease is stale.
    const done = ok(lifecycle.complete(s, { leaseHash: "hash-1", outcome: "failed", error: null, lastBatchSeq: 0, now: T0 })).state;
    expect(lifecycle.heartbeat(done, { leaseHash: "hash-1", phase: "running", now: T0 }, timing)).toMatchObject({ ok: false, code: "lease_stale" });
    expect(lifecycle.checkLease(queued(), "hash-1", T0)).toMatchObject({ ok: false, code: "lease_stale" });
  });

  it("refuses a lease past its expiry even before the alarm re-queued the task", () => {
    const s = running(leased(queued(), T0), T0);
    const late = T0 + timing.leaseTtlMs;
    expect(lifecycle.heartbeat(s, { leaseHash: "hash-1", phase: "running", now: late }, timing)).toMatchObject({ ok: false, code: "lease_stale" });
    expect(lifecycle.acceptBatch(s, { leaseHash: "hash-1", batchSeq: 1, now: late })).toMatchObject({ ok: false, code: "lease_stale" });
    expect(lifecycle.complete(s, { leaseHash: "hash-1", outcome: "succeeded", error: null, lastBatchSeq: 0, now: late })).toMatchObject({
      ok: false,
      code: "lease_stale",
    });
    expect(lifecycle.release(s, { leaseHash: "hash-1", reason: "x", now: late })).toMatchObject({ ok: false, code: "lease_stale" });
    expect(lifecycle.heartbeat(s, { leaseHash: "hash-1", phase: "running", now: late - 1 }, timing)).toMatchObject({ ok: true });
  });

  it("answers a retried completion of the same lease without changing anything", () => {
    const s = running(leased(queued(), T0), T0);
    const done = ok(lifecycle.complete(s, { leaseHash: "hash-1", outcome: "succeeded", error: null, lastBatchSeq: 0, now: T0 }));
    const again = ok(lifecycle.complete(done.state, { leaseHash: "hash-1", outcome: "failed", error: null, lastBatchSeq: 0, now: T0 + 9 }));
    expect(again.changes).toEqual([]);
    expect(again.state).toEqual(done.state);
    expect(lifecycle.complete(done.state, { leaseHash: "other", outcome: "succeeded", error: null, lastBatchSeq: 0, now: T0 })).toMatchObject({
      ok: false,
      code: "lease_stale",
    });
  });

  it("accepts batches in order, treats repeats as duplicates and refuses gaps", () => {
    const s = running(leased(queued(), T0), T0);
    const one = lifecycle.acceptBatch(s, { leaseHash: "hash-1", batchSeq: 1, now: T0 });
    expect(one).toMatchObject({ ok: true, duplicate: false, state: { lastBatchSeq: 1 } });
    if (!one.ok) throw new Error("unreachable");
    expect(lifecycle.acceptBatch(one.state, { leaseHash: "hash-1", batchSeq: 1, now: T0 })).toMatchObject({ ok: true, duplicate: true });
    expect(lifecycle.acceptBatch(one.state, { leaseHash: "hash-1", batchSeq: 3, now: T0 })).toMatchObject({ ok: false, code: "sequence_gap" });
    expect(lifecycle.complete(one.state, { leaseHash: "hash-1", outcome: "succeeded", error: null, lastBatchSeq: 2, now: T0 })).toMatchObject({
      ok: false,
      code: "sequence_gap",
    });
    expect(lifecycle.complete(one.state, { leaseHash: "hash-1", outcome: "succeeded", error: null, lastBatchSeq: 0, now: T0 })).toMatchObject({
      ok: false,
      code: "sequence_gap",
    });
  });

  it("fills in an error for an unsuccessful outcome the runner did not explain", () => {
    const s = running(leased(queued(), T0), T0);
    for (const [outcome, code] of [
      ["failed", "cli_failed"],
      ["timed_out", "timed_out"],
      ["canceled", "canceled"],
    ] as const) {
      const d = ok(lifecycle.complete(s, { leaseHash: "hash-1", outcome, error: null, lastBatchSeq: 0, now: T0 }));
      expect(d.state).toMatchObject({ status: outcome, error: { code } });
    }
  });

  it("retries a lapsed lease up to max_attempts, then fails as runner_lost", () => {
    let s = queued({ maxAttempts: 2 });
    s = leased(s, T0, "h1", "r1");
    expect(ok(lifecycle.onAlarm(s, T0 + 29_999, timing)).state.status).toBe("leased");

    const retry = ok(lifecycle.onAlarm(s, T0 + 30_000, timing));
    expect(retry.state).toMatchObject({ status: "queued", attempt: 1, runnerId: null, leaseHash: null, requeueAt: T0 + 30_000 + REQUEUE_CHECK_MS });
    expect(retry.state.error).toMatchObject({ code: "runner_lost" });
    expect(retry.effects).toEqual(["enqueue"]);
    expect(retry.changes).toEqual([{ status: "queued", runnerId: null, error: retry.state.error }]);

    s = leased(retry.state, T0 + 40_000, "h2", "r2");
    expect(s).toMatchObject({ attempt: 2, error: null, lastBatchSeq: 0 });
    const lost = ok(lifecycle.onAlarm(s, T0 + 70_000, timing));
    expect(lost.state).toMatchObject({ status: "failed", attempt: 2, error: { code: "runner_lost" }, finishedAt: T0 + 70_000 });
    expect(lost.effects).toEqual(["release"]);
  });

  it("times an attempt out after its timeout plus the grace, even with a live lease", () => {
    const s = running(leased(queued({ timeoutMs: 10_000 }), T0), T0);
    const renewed = ok(lifecycle.heartbeat(s, { leaseHash: "hash-1", phase: "running", now: T0 + 25_000 }, timing)).state;
    expect(ok(lifecycle.onAlarm(renewed, T0 + 10_000 + TIMEOUT_GRACE_MS - 1, timing)).state.status).toBe("running");
    const out = ok(lifecycle.onAlarm(renewed, T0 + 10_000 + TIMEOUT_GRACE_MS, timing));
    expect(out.state).toMatchObject({ status: "timed_out", error: { code: "timed_out" } });
  });

  it("cancels a queued task at once and dequeues it; a leased one only records the request", () => {
    const q = ok(lifecycle.cancel(queued(), { now: T0 + 1 }));
    expect(q.state).toMatchObject({ status: "canceled", error: { code: "canceled" }, finishedAt: T0 + 1 });
    expect(q.effects).toEqual(["dequeue"]);
    expect(lifecycle.cancel(q.state, { now: T0 + 2 })).toMatchObject({ ok: false, code: "invalid_state" });

    const r = running(leased(queued(), T0), T0);
    const requested = ok(lifecycle.cancel(r, { now: T0 + 5 }));
    expect(requested.state).toMatchObject({ status: "running", cancelRequestedAt: T0 + 5 });
    expect(requested.changes).toEqual([]);
    // Asking twice keeps the first request time (the grace does not restart).
    expect(ok(lifecycle.cancel(requested.state, { now: T0 + 9 })).state.cancelRequestedAt).toBe(T0 + 5);

    expect(ok(lifecycle.onAlarm(requested.state, T0 + 5 + 19_000 - 1, timing)).state.status).toBe("running");
    expect(ok(lifecycle.onAlarm(requested.state, T0 + 5 + 19_000, timing)).state).toMatchObject({ status: "canceled", error: { code: "canceled" } });
  });

  it("ends a canceling task whose lease lapses as canceled, not as a retry", () => {
    const s = ok(lifecycle.cancel(leased(queued(), T0), { now: T0 + 25_000 })).state;
    const d = ok(lifecycle.onAlarm(s, T0 + 30_000, timing));
    expect(d.state.status).toBe("canceled");
    expect(d.effects).toEqual(["release"]);
  });

  it("frees the key's concurrency slot on every end of a leased or running task, and only then", () => {
    const held = running(leased(queued({ timeoutMs: 10_000 }), T0), T0);
    const ends = {
      reported: ok(lifecycle.complete(held, { leaseHash: "hash-1", outcome: "succeeded", error: null, lastBatchSeq: 0, now: T0 + 1 })),
      timedOut: ok(lifecycle.onAlarm(held, T0 + 10_000 + TIMEOUT_GRACE_MS, timing)),
      cancelGraceOver: ok(lifecycle.onAlarm(ok(lifecycle.cancel(held, { now: T0 })).state, T0 + timing.cancelGraceMs, timing)),
      leasedThenCanceled: ok(lifecycle.complete(leased(queued(), T0), { leaseHash: "hash-1", outcome: "canceled", error: null, lastBatchSeq: 0, now: T0 + 1 })),
    };
    for (const [name, d] of Object.entries(ends)) {
      expect(d.state.finishedAt, name).not.toBeNull();
      expect(d.effects, name).toContain("release");
    }
    // A queued task holds no slot: canceling it takes it off the queue, nothing more.
    expect(ok(lifecycle.cancel(queued(), { now: T0 })).effects).toEqual(["dequeue"]);
    // A lapsed lease re-queues: the enqueue frees the slot, no separate release.
    expect(ok(lifecycle.onAlarm(leased(queued(), T0), T0 + 30_000, timing)).effects).toEqual(["enqueue"]);
  });

  it("re-offers a queued task to its dispatcher when the re-queue check is due", () => {
    const s = queued();
    expect(ok(lifecycle.onAlarm(s, T0 + REQUEUE_CHECK_MS - 1, timing)).effects).toEqual([]);
    const d = ok(lifecycle.onAlarm(s, T0 + REQUEUE_CHECK_MS, timing));
    expect(d.effects).toEqual(["enqueue"]);
    expect(d.state.requeueAt).toBe(T0 + 2 * REQUEUE_CHECK_MS);
    expect(d.changes).toEqual([]);
  });

  it("checks soon after a hand-off to a waiting runner, and not at all once leased", () => {
    const s = queued();
    const handed = ok(lifecycle.handedOff(s, T0 + 100));
    expect(handed.state.requeueAt).toBe(T0 + 100 + HANDOFF_CHECK_MS);
    expect(lifecycle.nextDeadline(handed.state, timing)).toBe(T0 + 100 + HANDOFF_CHECK_MS);
    expect(handed.changes).toEqual([]);
    expect(handed.effects).toEqual([]);
    // The runner hung up: at the check, the task offers itself again.
    expect(ok(lifecycle.onAlarm(handed.state, T0 + 100 + HANDOFF_CHECK_MS, timing)).effects).toEqual(["enqueue"]);
    // The lease came first: nothing to do.
    const l = leased(s, T0 + 50);
    expect(ok(lifecycle.handedOff(l, T0 + 100)).state).toBe(l);
  });

  describe("nextDeadline", () => {
    it("is the re-queue check while queued", () => {
      expect(lifecycle.nextDeadline(queued(), timing)).toBe(T0 + REQUEUE_CHECK_MS);
    });

    it("is the lease expiry when it comes before the attempt timeout", () => {
      const s = leased(queued({ timeoutMs: 600_000 }), T0);
      expect(lifecycle.nextDeadline(s, timing)).toBe(T0 + 30_000);
    });

    it("is the attempt timeout when it comes before the lease expiry", () => {
      let s = running(leased(queued({ timeoutMs: 10_000 }), T0), T0);
      s = ok(lifecycle.heartbeat(s, { leaseHash: "hash-1", phase: "running", now: T0 + 20_000 }, timing)).state;
      expect(lifecycle.nextDeadline(s, timing)).toBe(T0 + 10_000 + TIMEOUT_GRACE_MS);
    });

    it("is the cancel grace when it comes first", () => {
      const s = ok(lifecycle.cancel(leased(queued(), T0), { now: T0 + 1_000 })).state;
      expect(lifecycle.nextDeadline(s, timing)).toBe(T0 + 1_000 + 19_000);
    });

    it("is null once the task has ended", () => {
      const s = ok(lifecycle.cancel(queued(), { now: T0 })).state;
      expect(lifecycle.nextDeadline(s, timing)).toBeNull();
    });
  });
  it("re-queues a released task at once without spending an attempt, refusing any other lease", () => {
    const s = running(leased(queued({ maxAttempts: 1 }), T0), T0 + 1);
    expect(lifecycle.release(s, { leaseHash: "other", reason: "x", now: T0 + 2 })).toMatchObject({ ok: false, code: "lease_stale" });

    const r = ok(lifecycle.release(s, { leaseHash: "hash-1", reason: "shutting down", now: T0 + 2 }));
    expect(r.state).toMatchObject({ status: "queued", attempt: 1, maxAttempts: 2, runnerId: null, leaseHash: null, requeueAt: T0 + 2 + REQUEUE_CHECK_MS });
    expect(r.effects).toEqual(["enqueue"]);
    expect(r.changes).toEqual([
      { status: "queued", runnerId: null, error: null, reason: "runner runner-1 handed the task back (shutting down); re-queued without counting attempt 1" },
    ]);
    // Released again with the same lease: it is no longer valid.
    expect(lifecycle.release(r.state, { leaseHash: "hash-1", reason: "again", now: T0 + 3 })).toMatchObject({ ok: false, code: "lease_stale" });

    // The one counted attempt is still to come: its lapse fails the task, not an earlier one.
    const second = leased(r.state, T0 + 4, "hash-2");
    const lapsed = ok(lifecycle.onAlarm(second, T0 + 4 + timing.leaseTtlMs, timing));
    expect(lapsed.state).toMatchObject({ status: "failed", attempt: 2, error: { code: "runner_lost" } });
  });

  it("ends a released task that was asked to cancel, instead of re-queuing it", () => {
    const s = ok(lifecycle.cancel(running(leased(queued(), T0), T0 + 1), { now: T0 + 2 })).state;
    const r = ok(lifecycle.release(s, { leaseHash: "hash-1", reason: "shutting down", now: T0 + 3 }));
    expect(r.state).toMatchObject({ status: "canceled", error: { code: "canceled" } });
    // Nothing to re-queue; the owner key's concurrency slot is freed.
    expect(r.effects).toEqual(["release"]);
  });

  describe("follow-ups", () => {
    const cmd = { maxAttempts: 3, timeoutMs: 120_000, iterationsMax: 20 };
    const succeeded = () =>
      ok(lifecycle.complete(running(leased(queued(), T0), T0 + 1), { leaseHash: "hash-1", outcome: "succeeded", error: null, lastBatchSeq: 0, now: T0 + 2 }))
        .state;

    it("starts iteration n+1 of an ended task, queued, with its attempts, lease and times reset", () => {
      const ended = succeeded();
      expect(ended).toMatchObject({ status: "succeeded", iteration: 1, attempt: 1 });
      const f = ok(lifecycle.followUp(ended, { ...cmd, now: T0 + 10 }));
      expect(f.state).toMatchObject({
        status: "queued",
        iteration: 2,
        attempt: 0,
        maxAttempts: 3,
        timeoutMs: 120_000,
        runnerId: null,
        leaseHash: null,
        completedLeaseHash: null,
        startedAt: null,
        finishedAt: null,
        lastBatchSeq: 0,
        error: null,
        requeueAt: T0 + 10 + REQUEUE_CHECK_MS,
      });
      expect(f.changes).toEqual([{ status: "queued", runnerId: null, error: null }]);
      expect(f.effects).toEqual(["enqueue"]);
    });

    it("fences the previous iteration's lease: its late reports are refused", () => {
      const f = ok(lifecycle.followUp(succeeded(), { ...cmd, now: T0 + 10 })).state;
      // A retried completion of iteration 1 must not end iteration 2.
      expect(lifecycle.complete(f, { leaseHash: "hash-1", outcome: "succeeded", error: null, lastBatchSeq: 0, now: T0 + 11 })).toMatchObject({
        ok: false,
        code: "lease_stale",
      });
      expect(lifecycle.heartbeat(f, { leaseHash: "hash-1", phase: "running", now: T0 + 11 }, timing)).toMatchObject({ ok: false, code: "lease_stale" });
      // Its own attempts count from 1 again.
      const l = leased(f, T0 + 12, "hash-2");
      expect(l).toMatchObject({ status: "leased", iteration: 2, attempt: 1 });
    });

    it("follows up failed, timed-out and canceled tasks too", () => {
      const failed = ok(lifecycle.abandon(queued(), { error: { code: "secrets_unavailable", message: "x" }, now: T0 })).state;
      const canceled = ok(lifecycle.cancel(queued(), { now: T0 })).state;
      const timedOut = ok(lifecycle.onAlarm(leased(queued(), T0), T0 + 600_000 + TIMEOUT_GRACE_MS, timing)).state;
      for (const s of [failed, canceled, timedOut]) {
        expect(ok(lifecycle.followUp(s, { ...cmd, now: T0 + 1 })).state).toMatchObject({ status: "queued", iteration: 2, error: null });
      }
    });

    it("refuses a task that has not ended, and one that has had as many iterations as allowed", () => {
      expect(lifecycle.followUp(queued(), { ...cmd, now: T0 })).toMatchObject({
        ok: false,
        code: "invalid_state",
        message: expect.stringMatching(/^task is queued/),
      });
      expect(lifecycle.followUp(running(leased(queued(), T0), T0 + 1), { ...cmd, now: T0 })).toMatchObject({
        ok: false,
        code: "invalid_state",
        message: expect.stringMatching(/^task is running/),
      });
      const second = ok(lifecycle.followUp(succeeded(), { ...cmd, iterationsMax: 2, now: T0 })).state;
      const ended = ok(lifecycle.cancel(second, { now: T0 + 1 })).state;
      expect(lifecycle.followUp(ended, { ...cmd, iterationsMax: 2, now: T0 + 2 })).toMatchObject({
        ok: false,
        code: "invalid_state",
        message: expect.stringContaining("2 iterations"),
      });
    });
  });
});
