/**
 * Unit: the pure task state machine in `edge/src/task/lifecycle.ts` — retries of a lapsed lease, timeouts,
 * cancellation and its grace, re-queue checks, and the single "earliest deadline" alarm.
 */
import { describe, expect, it } from "vitest";
import * as lifecycle from "../../edge/src/task/lifecycle.js";
import { HANDOFF_CHECK_MS, REQUEUE_CHECK_MS, TIMEOUT_GRACE_MS } from "../../edge/src/task/lifecycle.js";
import { T0, leased, ok, queued, running, timing } from "./lifecycle-states.js";

describe("lifecycle", () => {
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

  it("offers a task again when a hand-off brought no lease, and does nothing once it was leased", () => {
    const s = queued();
    const check = { iteration: s.iteration, attempt: s.attempt, now: T0 + HANDOFF_CHECK_MS };
    // The runner hung up: at the check, the task offers itself again, and checks again in 30 s.
    const again = ok(lifecycle.handOffUnclaimed(s, check));
    expect(again.effects).toEqual(["enqueue"]);
    expect(again.state.requeueAt).toBe(T0 + HANDOFF_CHECK_MS + REQUEUE_CHECK_MS);
    expect(again.changes).toEqual([]);
    // The lease came first: nothing to do.
    const l = leased(s, T0 + 50);
    expect(ok(lifecycle.handOffUnclaimed(l, check))).toMatchObject({ state: l, effects: [] });
    // Leased and lost meanwhile: queued again, but for a later attempt, which is offered already.
    const lost = ok(lifecycle.onAlarm(l, T0 + 50 + timing.leaseTtlMs, timing)).state;
    expect(lost.status).toBe("queued");
    expect(ok(lifecycle.handOffUnclaimed(lost, check)).effects).toEqual([]);
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
});
