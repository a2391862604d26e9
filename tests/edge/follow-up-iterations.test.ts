/**
 * Integration: follow-ups (`POST /api/v1/tasks/:id/instructions`) through the real Worker and
 * task objects in workerd. A follow-up starts iteration n+1 of an ended task; each iteration
 * keeps its own status sequence, attempts and result; the log shows them in order. When a
 * follow-up is refused for the task's state or its last patch. (Who may send one, bad bodies,
 * retries and limits: `follow-up-requests.test.ts`; secrets: `follow-up-secrets.test.ts`.)
 */
import { describe, expect, it } from "vitest";
import { allEvents, createTask, expectError, getTask, uniquePool } from "./api-client.js";
import { START_SHA, followUp, followUpOk, resultWith, runIteration } from "./follow-up-client.js";
import { complete, heartbeat, requestLease, startRunning, takeLease } from "./runner-client.js";
import { openStream, within } from "./stream-watcher.js";

describe("follow-ups", () => {
  it("say why the new iteration waits, as a new task does", async () => {
    const pool = uniquePool();
    const created = await createTask({ pool });
    await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    // The pool's only runner (capacity 1) is now busy with another task.
    await createTask({ pool });
    await startRunning(pool);
    const task = await followUpOk(created.id, { prompt: "Second request" });
    expect(task).toMatchObject({ status: "queued", iteration: 2, waiting_reason: `the one runner in pool ${pool} able to run it is busy` });
    expect((await getTask(created.id)).waiting_reason).toBe(`the one runner in pool ${pool} able to run it is busy`);
  });

  it("start iteration 2 on the previous patch; each iteration keeps its result and its own status sequence", async () => {
    const pool = uniquePool();
    const created = await createTask({ pool, prompt: "First request", max_attempts: 2 });
    expect(created).toMatchObject({ iteration: 1, iterations: [{ n: 1, prompt: "First request", status: "queued", first_seq: 1 }] });
    expect(created.links.instructions).toBe(`/api/v1/tasks/${created.id}/instructions`);
    const first = await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    expect(first.task).toMatchObject({ iteration: 1, base: null, prompt: "First request" });

    const task = await followUpOk(created.id, { prompt: "Second request", timeout_seconds: 60 });
    expect(task).toMatchObject({
      status: "queued",
      iteration: 2,
      prompt: "Second request",
      timeout_seconds: 60,
      attempt: 0,
      result: null,
      error: null,
      started_at: null,
      finished_at: null,
    });
    expect(task.iterations).toHaveLength(2);
    const { patch: _patch, ...firstWithoutPatch } = resultWith();
    expect(task.iterations[0]).toMatchObject({ n: 1, prompt: "First request", status: "succeeded", attempt: 1, result: firstWithoutPatch, error: null });
    expect(task.iterations[0]!.result).not.toHaveProperty("patch");
    expect(task.iterations[1]).toMatchObject({ n: 2, prompt: "Second request", status: "queued", attempt: 0, result: null });

    // Any free runner takes it, starting from the previous patch on the starting commit.
    const second = await runIteration(pool, { outcome: "succeeded", result: resultWith({ patch: "diff --git a/NOTES.md b/NOTES.md\n+- first\n+- second\n" }) });
    expect(second).toMatchObject({
      attempt: 1,
      task: { iteration: 2, prompt: "Second request", timeout_seconds: 60, base: { kind: "patch", patch: resultWith().patch, commit_sha: START_SHA } },
    });

    const done = await getTask(created.id);
    expect(done).toMatchObject({ status: "succeeded", iteration: 2, attempt: 1, result: { patch: expect.stringContaining("+- second") } });
    expect(done.iterations.map((i) => [i.n, i.status])).toEqual([
      [1, "succeeded"],
      [2, "succeeded"],
    ]);

    // The log: iteration 1's events, the boundary, iteration 2's events — in one sequence.
    const events = await allEvents(created.id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const summary = events.map((e) => `${e.iteration}.${e.attempt} ${e.type}${e.type === "status" ? `:${e.status}` : ""}`);
    expect(summary).toEqual([
      "1.0 status:queued",
      "1.1 status:leased",
      "1.1 status:running",
      "1.1 output",
      "1.1 result",
      "1.1 status:succeeded",
      "2.0 iteration",
      "2.0 status:queued",
      "2.1 status:leased",
      "2.1 status:running",
      "2.1 output",
      "2.1 result",
      "2.1 status:succeeded",
    ]);
    const boundary = events.find((e) => e.type === "iteration")!;
    expect(boundary).toMatchObject({ iteration: 2, prompt: "Second request" });
    expect(done.iterations[1]!.first_seq).toBe(boundary.seq);
  });

  it("streams the new iteration live to a watcher that connects from its first event", async () => {
    const pool = uniquePool();
    const created = await createTask({ pool });
    await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    const task = await followUpOk(created.id, { prompt: "Again" });
    const since = task.iterations[1]!.first_seq - 1;
    const watcher = await openStream(created.id, since);
    await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    await within(watcher.closed, 5_000, "stream close");
    const events = watcher.events;
    expect(events[0]).toMatchObject({ seq: since + 1, type: "iteration", iteration: 2 });
    expect(events.every((f) => f.iteration === 2)).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: "status", status: "succeeded" });
  });

  it("keep the task's autonomy and egress_allow, which a follow-up cannot change", async () => {
    const pool = uniquePool();
    const created = await createTask({ pool, autonomy: "edits", egress_allow: ["api.example.com", "*.packages.example.org"] });
    await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    await expectError(await followUp(created.id, { prompt: "Wider", autonomy: "full" }), 400, "validation_failed", "autonomy");
    await expectError(await followUp(created.id, { prompt: "Wider", egress_allow: ["*.example.com"] }), 400, "validation_failed", "egress_allow");

    const task = await followUpOk(created.id, { prompt: "Second request" });
    expect(task).toMatchObject({ iteration: 2, autonomy: "edits", egress_allow: ["api.example.com", "*.packages.example.org"] });
    const second = await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    expect(second.task).toMatchObject({ iteration: 2, autonomy: "edits", egress_allow: ["api.example.com", "*.packages.example.org"] });
  });

  it("is refused while the task is queued or running (409), then accepted once it ends", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const queued = await expectError(await followUp(task.id, { prompt: "More" }), 409, "invalid_state");
    expect(queued.error.message).toMatch(/task is queued/);
    const lease = await startRunning(pool);
    const running = await expectError(await followUp(task.id, { prompt: "More" }), 409, "invalid_state");
    expect(running.error.message).toMatch(/task is running.*once it has ended/);
    expect((await getTask(task.id)).iteration).toBe(1);
    expect((await complete(task.id, lease.lease_id, { outcome: "failed", last_batch_seq: 0, error: { code: "cli_failed", message: "boom" } })).status).toBe(
      200,
    );
    // A failed iteration without a result: the follow-up starts again from repo.ref.
    await followUpOk(task.id, { prompt: "More" });
    const next = await takeLease({ pool });
    expect(next.task).toMatchObject({ iteration: 2, base: null, prompt: "More" });
    // The old lease is fenced off from the new iteration.
    expect((await heartbeat(task.id, lease.lease_id)).status).toBe(409);
  });

  it("builds on the newest result: a later iteration without one does not lose the earlier change", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    await followUpOk(task.id, { prompt: "Second" });
    await runIteration(pool, { outcome: "failed", result: null });
    await followUpOk(task.id, { prompt: "Third" });
    const third = await takeLease({ pool });
    expect(third.task).toMatchObject({ iteration: 3, base: { kind: "patch", patch: resultWith().patch } });
  });

  it("is refused when the last patch was cut and nothing was pushed, saying why", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    await runIteration(pool, { outcome: "succeeded", result: resultWith({ patch_truncated: true }) });
    const body = await expectError(await followUp(task.id, { prompt: "More" }), 409, "invalid_state");
    expect(body.error.message).toMatch(/cut at the size cap.*push: true/);
    expect(await getTask(task.id)).toMatchObject({ status: "succeeded", iteration: 1 });
  });

  it("is refused (409 patch_masked) when the last patch had a secret masked in it and nothing was pushed", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool, max_attempts: 1 });
    await runIteration(pool, { outcome: "failed", result: resultWith({ patch_masked: true }) });
    const body = await expectError(await followUp(task.id, { prompt: "Fix it" }), 409, "patch_masked");
    expect(body.error.message).toMatch(/secrets.*masked/);
    const after = await getTask(task.id);
    expect(after).toMatchObject({ status: "failed", iteration: 1, result: { patch_masked: true } });
    expect(after.iterations).toHaveLength(1);
    // No runner is offered anything.
    expect((await requestLease({ pool })).status).toBe(204);
  });

  it("are refused after the most iterations a task may have", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    let last = await getTask(task.id);
    for (let n = 1; n <= 20; n++) {
      await runIteration(pool, { outcome: "succeeded", result: resultWith() });
      if (n < 20) last = await followUpOk(task.id, { prompt: `Iteration ${n + 1}` });
    }
    expect(last.iteration).toBe(20);
    const refused = await expectError(await followUp(task.id, { prompt: "One more" }), 409, "invalid_state");
    expect(refused.error.message).toMatch(/20 iterations/);
  });
});
