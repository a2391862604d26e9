/**
 * Unit: the pure task state machine in `edge/src/task/lifecycle.ts` — follow-ups: iteration n+1 of an ended
 * task, the previous iteration's lease fenced off, and the refusals.
 */
import { describe, expect, it } from "vitest";
import * as lifecycle from "../../edge/src/task/lifecycle.js";
import { REQUEUE_CHECK_MS, TIMEOUT_GRACE_MS } from "../../edge/src/task/lifecycle.js";
import { T0, leased, ok, queued, running, timing } from "./lifecycle-states.js";

describe("lifecycle", () => {
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
