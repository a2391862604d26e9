/**
 * Integration (workerd, tracing off as in these suites): the lease hands the runner the task's
 * trace context. A task keeps one trace for its life — each attempt's lease names the same
 * trace — and a `traceparent` the client sent with the create request is not that trace.
 */
import { describe, expect, it } from "vitest";
import { parseTraceparent } from "#api/trace-context.js";
import { createTask, uniquePool } from "./api-client.js";
import { runnerPost, takeLease } from "./runner-client.js";

const CLIENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

describe("trace context in the lease", () => {
  it("gives every attempt the task's own trace, never the client's", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool, max_attempts: 2 }, { traceparent: CLIENT });
    const first = await takeLease({ pool, runner_id: "runner-a" });
    expect(first.task_id).toBe(task.id);
    const trace = parseTraceparent(first.traceparent);
    expect(trace, "a valid W3C traceparent").not.toBeNull();
    expect(trace!.traceId).not.toBe("4bf92f3577b34da6a3ce929d0e0e4736");

    // Handed back, leased again: the second attempt is in the same trace.
    const released = await runnerPost(`/runner/v1/tasks/${task.id}/release`, { lease_id: first.lease_id, reason: "test" });
    expect(released.status).toBe(200);
    const second = await takeLease({ pool, runner_id: "runner-b" });
    expect(second.task_id).toBe(task.id);
    expect(parseTraceparent(second.traceparent)!.traceId).toBe(trace!.traceId);
  });

  it("starts a separate trace for each task", async () => {
    const pool = uniquePool();
    await createTask({ pool });
    const a = await takeLease({ pool });
    await createTask({ pool });
    const b = await takeLease({ pool });
    expect(parseTraceparent(a.traceparent)!.traceId).not.toBe(parseTraceparent(b.traceparent)!.traceId);
  });
});
