/**
 * Integration: runner leases a hostile runner does not hold. A lease for one task, a made-up
 * lease id, a lease given back or one whose task ended, and a request signed for another path or
 * method open nothing: every runner write is refused, and the task carries on untouched. Each
 * answer also passes the OpenAPI sweep's oracle (`sweep/oracle.ts`): no 5xx, the JSON envelope
 * with the request id, no stack trace, source path or secret.
 */
import { SELF } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { ErrorBody } from "#api/errors.js";
import { signRequest } from "#api/signing.js";
import { ORIGIN, createTask } from "./api-client.js";
import { TEST_ADMIN_KEY, TEST_RUNNER_SECRETS } from "./credentials.js";
import { takeLease } from "./runner-client.js";
import { JSON_TYPE, type Json } from "./sweep/operations.js";
import { type Signing, check, createSweepFixture, send } from "./sweep/oracle.js";

// The oracle checks no answer shows the read-only key it makes here.
beforeAll(createSweepFixture);

/** Every runner write after the lease, with `leaseId`, as a runner would send it. */
function runnerWrites(leaseId: string): [string, Record<string, Json>][] {
  return [
    ["heartbeat", { lease_id: leaseId, phase: "running" }],
    ["events", { lease_id: leaseId, batch_seq: 1, events: [{ type: "output", stream: "stdout", text: "intruder\n", offset: 0 }] }],
    ["session", { lease_id: leaseId, session: { cli: "demo", session_id: "s-1", archive: "" } }],
    ["release", { lease_id: leaseId, reason: "not mine" }],
    ["complete", { lease_id: leaseId, outcome: "failed", last_batch_seq: 0, result: null, error: null }],
  ];
}

async function runnerWrite(taskId_: string, op: string, body: Record<string, Json>, signing: Signing = "signed"): Promise<Response> {
  return check({ method: "POST", url: `/runner/v1/tasks/${taskId_}/${op}`, body: JSON.stringify(body), signing }, { mustFail: true });
}

async function statusOf(id: string): Promise<{ status: string; attempt: number }> {
  const res = await SELF.fetch(`${ORIGIN}/api/v1/tasks/${id}`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
  return (await res.json()) as { status: string; attempt: number };
}

describe("runner leases a hostile runner does not hold", () => {
  it("a lease for one task is refused on every write to another, which carries on untouched", { timeout: 60_000 }, async () => {
    const pool = `sweep-lease-${crypto.randomUUID().slice(0, 8)}`;
    await createTask({ pool });
    await createTask({ pool });
    const a = await takeLease({ pool, runner_id: "runner-a" });
    const b = await takeLease({ pool, runner_id: "runner-b" });
    expect(a.task_id).not.toBe(b.task_id);
    for (const [op, body] of runnerWrites(a.lease_id)) {
      const res = await runnerWrite(b.task_id, op, body);
      expect(res.status, op).toBe(409);
    }
    expect(await statusOf(b.task_id)).toMatchObject({ status: "leased", attempt: 1 });
    // The real holder still gets through.
    const ok = await send({
      method: "POST",
      url: `/runner/v1/tasks/${b.task_id}/heartbeat`,
      body: JSON.stringify({ lease_id: b.lease_id, phase: "running" }),
      signing: "signed",
    });
    expect(ok.status).toBe(200);
    const events = await SELF.fetch(`${ORIGIN}/api/v1/tasks/${b.task_id}/events`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
    expect(await events.text()).not.toContain("intruder");
  });

  it("made-up lease ids, and leases on a task nobody leased, are refused on every write", { timeout: 60_000 }, async () => {
    const pool = `sweep-lease-${crypto.randomUUID().slice(0, 8)}`;
    const queued = await createTask({ pool });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ minLength: 1, maxLength: 128 }), fc.constantFrom(`lse_${"a".repeat(32)}`, "null", "0", "*", "%")),
        fc.constantFrom(...runnerWrites("x").map(([op]) => op)),
        async (leaseId, op) => {
          const [, payload] = runnerWrites(leaseId).find(([name]) => name === op)!;
          const res = await runnerWrite(queued.id, op, payload);
          expect(res.status).toBe(409);
        },
      ),
      { numRuns: 6 },
    );
    expect(await statusOf(queued.id)).toMatchObject({ status: "queued" });
  });

  it("a lease given back, or one whose task ended, opens nothing any more", { timeout: 60_000 }, async () => {
    const pool = `sweep-lease-${crypto.randomUUID().slice(0, 8)}`;
    const task = await createTask({ pool });
    const first = await takeLease({ pool });
    const released = await send({
      method: "POST",
      url: `/runner/v1/tasks/${task.id}/release`,
      body: JSON.stringify({ lease_id: first.lease_id, reason: "shutting down" }),
      signing: "signed",
    });
    expect(released.status).toBe(200);
    for (const [op, body] of runnerWrites(first.lease_id)) expect((await runnerWrite(task.id, op, body)).status, op).toBe(409);

    const second = await takeLease({ pool });
    expect(second.task_id).toBe(task.id);
    const done = await send({
      method: "POST",
      url: `/runner/v1/tasks/${task.id}/complete`,
      body: JSON.stringify({ lease_id: second.lease_id, outcome: "failed", last_batch_seq: 0, result: null, error: { code: "cli_failed", message: "x" } }),
      signing: "signed",
    });
    expect(done.status, await done.clone().text()).toBe(200);
    for (const [op, body] of runnerWrites(second.lease_id).filter(([name]) => name !== "complete"))
      expect((await runnerWrite(task.id, op, body)).status, op).toBe(409);
    expect((await statusOf(task.id)).status).toBe("failed");
  });

  it("a request signed for one task's path, or with another method, does not verify on another", { timeout: 60_000 }, async () => {
    const pool = `sweep-lease-${crypto.randomUUID().slice(0, 8)}`;
    await createTask({ pool });
    await createTask({ pool });
    const a = await takeLease({ pool });
    const b = await takeLease({ pool });
    const body = JSON.stringify({ lease_id: b.lease_id, phase: "running" });
    const signedForA = await signRequest({ secret: TEST_RUNNER_SECRETS[0], method: "POST", pathAndQuery: `/runner/v1/tasks/${a.task_id}/heartbeat`, body });
    const signedAsGet = await signRequest({ secret: TEST_RUNNER_SECRETS[0], method: "GET", pathAndQuery: `/runner/v1/tasks/${b.task_id}/heartbeat`, body });
    for (const headers of [signedForA, signedAsGet]) {
      const res = await SELF.fetch(`${ORIGIN}/runner/v1/tasks/${b.task_id}/heartbeat`, {
        method: "POST",
        headers: { "content-type": JSON_TYPE, ...headers },
        body,
      });
      const text = await res.text();
      expect(res.status, text).toBe(401);
      expect(ErrorBody.parse(JSON.parse(text)).error.code).toBe("unauthorized");
    }
  });
});
