/**
 * Unit: the pure task state machine in `edge/src/task/lifecycle.ts` — leasing, heartbeats, output batches
 * and completion with lease fencing, and a runner handing a task back. (Deadlines and the alarm:
 * `lifecycle-deadlines.test.ts`; follow-ups: `lifecycle-follow-up.test.ts`.)
 */
import { describe, expect, it } from "vitest";
import * as lifecycle from "../../edge/src/task/lifecycle.js";
import { REQUEUE_CHECK_MS } from "../../edge/src/task/lifecycle.js";
import { T0, leased, ok, queued, running, timing } from "./lifecycle-states.js";

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
});
