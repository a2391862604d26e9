/**
 * Integration: a key's task limits. `max_concurrent_tasks` holds the key's further tasks in
 * the queue (never drops them) until one of its leased or running tasks ends, whatever ends
 * it; `max_queued_tasks` refuses submissions beyond it with 429. The rate limits
 * (`requests_per_minute`, `tasks_per_minute`) ride on the principal for the limiter.
 */
import { env } from "cloudflare:test";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { TIMEOUT_GRACE_MS } from "../../edge/src/task/lifecycle.js";
import { SLOT_EXPIRY_MARGIN_MS } from "../../edge/src/dispatcher/key-slots.js";
import type { Env } from "../../edge/src/env.js";
import { apiKeyAuth, type AuthVariables } from "../../edge/src/middleware/api-key-auth.js";
import { apiFetch, dispatcherOf, expectError, getTask, uniquePool } from "./api-client.js";
import { advanceClock, fireAlarm } from "./clock.js";
import { createKey, createTaskAs } from "./key-client.js";
import { complete, heartbeat, requestLease, startRunning, takeLease } from "./runner-client.js";

const LEASE_TTL_MS = 30_000;

/** A pool, a key allowed one task at a time, and two of its tasks: the first leased and running. */
async function oneRunningOneHeldBack(taskOverrides: { timeout_seconds?: number; max_attempts?: number } = {}) {
  const pool = uniquePool();
  const key = await createKey({ limits: { max_concurrent_tasks: 1 } });
  const first = await createTaskAs(key.key, { pool, ...taskOverrides });
  const second = await createTaskAs(key.key, { pool, ...taskOverrides });
  const lease = await startRunning(pool, "runner-a");
  expect(lease.task_id).toBe(first.id);
  // The second task is queued, but not offered while the first runs.
  expect((await requestLease({ pool, runner_id: "runner-b" })).status).toBe(204);
  expect(await dispatcherOf(pool).stats()).toMatchObject({ queued: 1 });
  expect((await getTask(second.id)).status).toBe("queued");
  return { pool, key, first, second, lease };
}

describe("max_concurrent_tasks", () => {
  it("offers the held-back task once the running one completes", async () => {
    const { pool, second, lease } = await oneRunningOneHeldBack();
    expect((await complete(lease.task_id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0 })).status).toBe(200);
    expect((await takeLease({ pool, runner_id: "runner-b" })).task_id).toBe(second.id);
  });

  it("frees the slot when the running task is canceled and its runner confirms", async () => {
    const { pool, first, second, lease } = await oneRunningOneHeldBack();
    expect((await apiFetch(`/api/v1/tasks/${first.id}/cancel`, { method: "POST" })).status).toBe(202);
    expect((await requestLease({ pool, runner_id: "runner-b" })).status).toBe(204);
    expect((await complete(first.id, lease.lease_id, { outcome: "canceled", last_batch_seq: 0 })).status).toBe(200);
    expect((await takeLease({ pool, runner_id: "runner-b" })).task_id).toBe(second.id);
  });

  it("frees the slot when a canceled task's runner never confirms (cancel grace alarm)", async () => {
    const { pool, first, second } = await oneRunningOneHeldBack();
    await apiFetch(`/api/v1/tasks/${first.id}/cancel`, { method: "POST" });
    advanceClock(20_000);
    await fireAlarm(first.id);
    expect((await getTask(first.id)).status).toBe("canceled");
    expect((await takeLease({ pool, runner_id: "runner-b" })).task_id).toBe(second.id);
  });

  it("frees the slot when the runner is lost for good (lease expiry alarm)", async () => {
    const { pool, first, second } = await oneRunningOneHeldBack({ max_attempts: 1 });
    advanceClock(LEASE_TTL_MS + 1_000);
    await fireAlarm(first.id);
    expect(await getTask(first.id)).toMatchObject({ status: "failed", error: { code: "runner_lost" } });
    expect((await takeLease({ pool, runner_id: "runner-b" })).task_id).toBe(second.id);
  });

  it("frees the slot when a lost runner's task is re-queued, and the key still runs one at a time", async () => {
    const { pool, first, second } = await oneRunningOneHeldBack({ max_attempts: 3 });
    advanceClock(LEASE_TTL_MS + 1_000);
    await fireAlarm(first.id);
    expect((await getTask(first.id)).status).toBe("queued");
    // One of the two goes (first by age), and only one.
    const next = await takeLease({ pool, runner_id: "runner-b" });
    expect([first.id, second.id]).toContain(next.task_id);
    expect((await requestLease({ pool, runner_id: "runner-c" })).status).toBe(204);
  });

  it("frees the slot when the attempt times out (timeout alarm, runner still heartbeating)", async () => {
    const { pool, first, second, lease } = await oneRunningOneHeldBack({ timeout_seconds: 10 });
    advanceClock(25_000);
    expect((await heartbeat(first.id, lease.lease_id)).status).toBe(200);
    advanceClock(10_000 + TIMEOUT_GRACE_MS - 25_000);
    await fireAlarm(first.id);
    expect((await getTask(first.id)).status).toBe("timed_out");
    expect((await takeLease({ pool, runner_id: "runner-b" })).task_id).toBe(second.id);
  });

  it("never leaks a slot: one whose release was lost expires after the attempt's hard deadline", async () => {
    // The first task's end is never reported to the dispatcher (its alarm is not run), as if
    // the release call had failed.
    const { pool, second } = await oneRunningOneHeldBack({ timeout_seconds: 10 });
    advanceClock(10_000 + TIMEOUT_GRACE_MS + SLOT_EXPIRY_MARGIN_MS - 1_000);
    expect((await requestLease({ pool, runner_id: "runner-b" })).status).toBe(204);
    advanceClock(1_000);
    expect((await takeLease({ pool, runner_id: "runner-b" })).task_id).toBe(second.id);
  });

  it("hands the held-back task to a runner already waiting, as soon as the slot frees", async () => {
    const { pool, second, lease } = await oneRunningOneHeldBack();
    const waiting = requestLease({ pool, runner_id: "runner-b", wait_ms: 10_000 });
    const deadline = Date.now() + 5_000;
    while ((await dispatcherOf(pool).stats()).waiting_runners < 1) {
      if (Date.now() > deadline) throw new Error("runner-b never started waiting");
      await new Promise((r) => setTimeout(r, 10));
    }
    const freedAt = Date.now();
    await complete(lease.task_id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0 });
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { task_id: string }).task_id).toBe(second.id);
    expect(Date.now() - freedAt).toBeLessThan(2_000);
  });

  it("holds back only that key's tasks: another key's task in the same pool still runs", async () => {
    const { pool } = await oneRunningOneHeldBack();
    const other = await createKey();
    const theirs = await createTaskAs(other.key, { pool });
    expect((await takeLease({ pool, runner_id: "runner-b" })).task_id).toBe(theirs.id);
  });
});

describe("max_queued_tasks", () => {
  it("refuses a submission beyond it with 429 rate_limited, and takes one again once a task starts", async () => {
    const pool = uniquePool();
    const key = await createKey({ limits: { max_queued_tasks: 2 } });
    await createTaskAs(key.key, { pool });
    await createTaskAs(key.key, { pool });
    const refused = await apiFetch("/api/v1/tasks", { key: key.key, json: { repo: { url: "file:///srv/repos/demo.git" }, prompt: "x", cli: "demo", pool } });
    expect((await expectError(refused, 429, "rate_limited")).error.message).toMatch(/max_queued_tasks/);
    expect(await dispatcherOf(pool).stats()).toMatchObject({ queued: 2 });

    await takeLease({ pool });
    await createTaskAs(key.key, { pool });
  });

  it("admits exactly the limit from a burst of parallel submissions", async () => {
    const pool = uniquePool();
    const key = await createKey({ limits: { max_queued_tasks: 3 } });
    const statuses = await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        apiFetch("/api/v1/tasks", { key: key.key, json: { repo: { url: "file:///srv/repos/demo.git" }, prompt: `burst ${i}`, cli: "demo", pool } }).then(
          async (r) => {
            await r.body?.cancel();
            return r.status;
          },
        ),
      ),
    );
    expect(statuses.filter((s) => s === 201)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(4);
    expect(await dispatcherOf(pool).stats()).toMatchObject({ queued: 3 });
  });

  it("still answers a retry of a task it already made (Idempotency-Key) when the queue is full", async () => {
    const pool = uniquePool();
    const key = await createKey({ limits: { max_queued_tasks: 1 } });
    const first = await createTaskAs(key.key, { pool }, { "idempotency-key": "job-1" });
    const retry = await apiFetch("/api/v1/tasks", {
      key: key.key,
      json: { repo: { url: "file:///srv/repos/demo.git", ref: "main" }, prompt: "Add a README", cli: "demo", pool },
      headers: { "idempotency-key": "job-1" },
    });
    expect(retry.status).toBe(200);
    expect(((await retry.json()) as { id: string }).id).toBe(first.id);
  });
});

describe("rate limits on the principal", () => {
  it("exposes the key's limits as principal.limits for the rate limiter", async () => {
    const key = await createKey({ limits: { requests_per_minute: 120, tasks_per_minute: 3, max_concurrent_tasks: 2 } });
    const app = new Hono<{ Bindings: Env; Variables: AuthVariables }>().use(apiKeyAuth()).get("/", (c) => c.json(c.get("principal")));
    const res = await app.request("/", { headers: { authorization: `Bearer ${key.key}` } }, env);
    expect(await res.json()).toEqual({
      keyId: key.id,
      owner: key.id,
      admin: false,
      scopes: ["tasks:read", "tasks:write"],
      limits: { requests_per_minute: 120, tasks_per_minute: 3, max_concurrent_tasks: 2 },
    });
  });
});
