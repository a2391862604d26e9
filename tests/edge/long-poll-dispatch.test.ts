/**
 * Integration: the Dispatcher behind `POST /runner/v1/lease`. A runner waiting in a long poll
 * gets a new task at once; tasks go only to runners with their CLI and labels; higher
 * priority first, then submission order.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Lease } from "#api/runner-protocol.js";
import { signRequest } from "#api/signing.js";
import { ORIGIN, createTask, dispatcherOf, getTask, uniquePool } from "./api-client.js";
import { TEST_RUNNER_SECRETS } from "./credentials.js";
import { requestLease, takeLease } from "./runner-client.js";

/** Waits until `count` runners are parked in `pool`'s dispatcher. */
async function runnersWaiting(pool: string, count: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while ((await dispatcherOf(pool).stats()).waiting_runners < count) {
    if (Date.now() > deadline) throw new Error(`${count} runner(s) never started waiting in ${pool}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("long-poll dispatch", () => {
  it("hands a task created during a long poll to the waiting runner within milliseconds", async () => {
    const pool = uniquePool();
    const started = Date.now();
    const pending = requestLease({ pool, runner_id: "waiting-runner", wait_ms: 10_000 });
    await runnersWaiting(pool, 1);

    const task = await createTask({ pool });
    const res = await pending;
    const elapsed = Date.now() - started;

    expect(res.status).toBe(200);
    const lease = Lease.parse(await res.json());
    expect(lease.task_id).toBe(task.id);
    expect(elapsed).toBeLessThan(2_000);
    expect(await getTask(task.id)).toMatchObject({ status: "leased", runner_id: "waiting-runner" });
    expect(await dispatcherOf(pool).stats()).toEqual({ queued: 0, waiting_runners: 0 });
  });

  it("answers 204 when no task comes within wait_ms", async () => {
    const pool = uniquePool();
    const started = Date.now();
    const res = await requestLease({ pool, wait_ms: 300 });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it("does not offer a task to a runner without its CLI or labels", async () => {
    const pool = uniquePool();
    const wrongCli = requestLease({ pool, runner_id: "aider-only", clis: ["aider"], labels: ["gpu"], wait_ms: 800 });
    const missingLabel = requestLease({ pool, runner_id: "no-gpu", clis: ["demo"], labels: ["linux"], wait_ms: 800 });
    await runnersWaiting(pool, 2);

    const task = await createTask({ pool, cli: "demo", labels: ["gpu", "linux"] });
    expect((await wrongCli).status).toBe(204);
    expect((await missingLabel).status).toBe(204);
    expect((await getTask(task.id)).status).toBe("queued");
    expect((await dispatcherOf(pool).stats()).queued).toBe(1);

    // Still not offered from the queue to the same runners...
    expect((await requestLease({ pool, clis: ["aider", "codex"], labels: ["gpu", "linux"] })).status).toBe(204);
    expect((await requestLease({ pool, clis: ["demo"], labels: ["gpu"] })).status).toBe(204);
    // ...but to one with the CLI and a superset of the labels.
    const lease = await takeLease({ pool, runner_id: "capable", clis: ["aider", "demo"], labels: ["linux", "gpu", "arm64"] });
    expect(lease.task_id).toBe(task.id);
  });

  it("passes over a task it cannot run to reach one it can", async () => {
    const pool = uniquePool();
    const gpuTask = await createTask({ pool, labels: ["gpu"], priority: 9 });
    const plainTask = await createTask({ pool, priority: 1 });
    expect((await takeLease({ pool, labels: [] })).task_id).toBe(plainTask.id);
    expect((await getTask(gpuTask.id)).status).toBe("queued");
  });

  it("offers higher priority first, then submission order", async () => {
    const pool = uniquePool();
    const low = await createTask({ pool, priority: 1 });
    const highFirst = await createTask({ pool, priority: 9 });
    const normal = await createTask({ pool });
    const highSecond = await createTask({ pool, priority: 9 });
    const normalSecond = await createTask({ pool, priority: 5 });

    const order: string[] = [];
    for (let i = 0; i < 5; i++) order.push((await takeLease({ pool })).task_id);
    expect(order).toEqual([highFirst.id, highSecond.id, normal.id, normalSecond.id, low.id]);
    expect((await requestLease({ pool })).status).toBe(204);
  });

  it("gives each task to one runner only when several wait", async () => {
    const pool = uniquePool();
    const polls = [1, 2, 3].map((n) => requestLease({ pool, runner_id: `runner-${n}`, wait_ms: 1_500 }));
    await runnersWaiting(pool, 3);
    const a = await createTask({ pool });
    const b = await createTask({ pool });
    const responses = await Promise.all(polls);
    const granted = await Promise.all(responses.filter((r) => r.status === 200).map(async (r) => Lease.parse(await r.json()).task_id));
    expect(granted.sort()).toEqual([a.id, b.id].sort());
    expect(responses.filter((r) => r.status === 204)).toHaveLength(1);
  });

  it("keeps pools apart", async () => {
    const poolA = uniquePool();
    const poolB = uniquePool();
    const task = await createTask({ pool: poolA });
    expect((await requestLease({ pool: poolB })).status).toBe(204);
    expect((await takeLease({ pool: poolA })).task_id).toBe(task.id);
  });

  it("re-offers within seconds a task handed to a runner that hung up its long poll", async () => {
    const pool = uniquePool();
    // A runner polls, then goes away (restart, network cut) while its poll is parked.
    const body = JSON.stringify({ runner_id: "vanished", pool, clis: ["demo"], wait_ms: 20_000 });
    const headers = await signRequest({ secret: TEST_RUNNER_SECRETS[0], method: "POST", pathAndQuery: "/runner/v1/lease", body });
    const hangUp = new AbortController();
    const abandoned = SELF.fetch(`${ORIGIN}/runner/v1/lease`, { method: "POST", body, headers, signal: hangUp.signal }).catch(() => "aborted");
    await runnersWaiting(pool, 1);
    hangUp.abort();
    expect(await abandoned).toBe("aborted");

    const task = await createTask({ pool });
    // Nobody leased it: the hand-off went to the runner that is gone.
    expect((await requestLease({ pool, runner_id: "alive" })).status).toBe(204);
    expect((await getTask(task.id)).status).toBe("queued");

    // A few seconds later (not the 30 s re-queue check) the task offers itself again.
    const pending = requestLease({ pool, runner_id: "alive", wait_ms: 15_000 });
    await runnersWaiting(pool, 1);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(Lease.parse(await res.json()).task_id).toBe(task.id);
    expect(await getTask(task.id)).toMatchObject({ status: "leased", runner_id: "alive" });
  });

  it("ends a runner's older poll when the same runner polls again, so the task goes to the live poll", async () => {
    const pool = uniquePool();
    // A runner restarted under its old id: its first poll is still parked, its new one arrives.
    const older = requestLease({ pool, runner_id: "restarted", wait_ms: 10_000 });
    await runnersWaiting(pool, 1);
    const newer = requestLease({ pool, runner_id: "restarted", wait_ms: 10_000 });
    expect((await older).status).toBe(204);
    await runnersWaiting(pool, 1);

    const task = await createTask({ pool });
    const res = await newer;
    expect(res.status).toBe(200);
    expect(Lease.parse(await res.json()).task_id).toBe(task.id);
    expect(await dispatcherOf(pool).stats()).toEqual({ queued: 0, waiting_runners: 0 });
  });
});
