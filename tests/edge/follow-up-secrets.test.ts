/**
 * Integration: the secrets of a follow-up (`access_token`, `env`) through the real Worker and
 * task objects in workerd. They were erased when the previous iteration ended, so a follow-up
 * must give them again; they go to the new lease only, are erased again, and never show in an
 * answer or the log. Racing follow-ups start one iteration.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Task } from "#api/task.js";
import { allEvents, createTask, expectError, getTask, taskObjectOf, uniquePool } from "./api-client.js";
import { followUp, followUpOk, resultWith, runIteration } from "./follow-up-client.js";
import { takeLease } from "./runner-client.js";

const sealedSecrets = (id: string) =>
  runInDurableObject(taskObjectOf(id), (_i, state) => state.storage.sql.exec<{ secrets: string | null }>("SELECT secrets FROM task").one().secrets);

describe("follow-up secrets", () => {
  const tag = () => crypto.randomUUID().replaceAll("-", "");

  it("must be given again (they were erased when the iteration ended), go to the new lease only, and are erased again", async () => {
    const pool = uniquePool();
    const t1 = `ghp_first${tag()}`;
    const k1 = `sk-ant-first-${tag()}`;
    const task = await createTask({ pool, access_token: t1, env: { ANTHROPIC_API_KEY: k1 } });
    await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    expect(await sealedSecrets(task.id)).toBeNull();

    await expectError(await followUp(task.id, { prompt: "More" }), 400, "validation_failed", "access_token");
    const noEnv = await expectError(await followUp(task.id, { prompt: "More", access_token: "ghp_x" }), 400, "validation_failed", "env");
    expect(noEnv.error.message).toContain("ANTHROPIC_API_KEY");
    expect((await getTask(task.id)).iteration).toBe(1);

    const t2 = `ghp_second${tag()}`;
    const k2 = `sk-ant-second-${tag()}`;
    const res = await followUp(task.id, { prompt: "More", access_token: t2, env: { ANTHROPIC_API_KEY: k2, EXTRA: "x" } });
    const text = await res.text();
    expect(res.status, text).toBe(202);
    for (const secret of [t1, k1, t2, k2]) expect(text).not.toContain(secret);
    expect(Task.parse(JSON.parse(text))).toMatchObject({ has_access_token: true, env_names: ["ANTHROPIC_API_KEY", "EXTRA"] });
    expect(await sealedSecrets(task.id)).not.toBeNull();

    const lease = await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    expect(lease.task).toMatchObject({ access_token: t2, env: { ANTHROPIC_API_KEY: k2, EXTRA: "x" } });
    expect(await sealedSecrets(task.id)).toBeNull();
    const everything = JSON.stringify(await allEvents(task.id)) + JSON.stringify(await getTask(task.id));
    for (const secret of [t1, k1, t2, k2]) expect(everything).not.toContain(secret);
  });

  it("under a race, start one iteration: a retry with the same key is answered, another follow-up refused", async () => {
    const pool = uniquePool();
    const token = `ghp_race${tag()}`;
    const task = await createTask({ pool, access_token: token });
    await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    // With secrets, each request awaits their sealing before it decides: the window a race needs.
    const headers = { "idempotency-key": `race-${tag()}` };
    const same = await Promise.all([1, 2].map(() => followUp(task.id, { prompt: "Once", access_token: token }, { headers })));
    expect(same.map((r) => r.status).sort()).toEqual([200, 202]);
    const other = await Promise.all([1, 2].map(() => followUp(task.id, { prompt: "Twice", access_token: token })));
    expect(other.map((r) => r.status)).toEqual([409, 409]); // iteration 2 is queued: not ended
    const after = await getTask(task.id);
    expect(after).toMatchObject({ iteration: 2, prompt: "Once" });
    expect(after.iterations).toHaveLength(2);

    // Two different follow-ups of an ended task at once: one starts iteration 3, one is refused.
    await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    const racing = await Promise.all(["A", "B"].map((p) => followUp(task.id, { prompt: p, access_token: token })));
    expect(racing.map((r) => r.status).sort()).toEqual([202, 409]);
    expect((await getTask(task.id)).iterations.map((i) => i.n)).toEqual([1, 2, 3]);
  });

  it("are not needed when the task had none", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    await runIteration(pool, { outcome: "succeeded", result: resultWith() });
    expect(await followUpOk(task.id, { prompt: "More" })).toMatchObject({ has_access_token: false, env_names: [] });
    expect((await takeLease({ pool })).task).toMatchObject({ access_token: null, env: {} });
  });
});
