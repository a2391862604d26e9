/**
 * Integration: `push` and `branch` on a task, and the result fields a runner reports (`cost_usd`,
 * `usage`, `push`), through the real Worker and task objects. Bad push requests are 400s
 * naming the field; the lease tells the runner where to push; old stored rows stay readable.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { apiFetch, createTask, expectError, getTask, taskObjectOf, taskSpec, uniquePool } from "./api-client.js";
import { complete, requestLease, runnerPost, sampleResult, startRunning, takeLease } from "./runner-client.js";

describe("push on create", () => {
  it("defaults to no push: the task says so and the lease asks for none", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    expect(task).toMatchObject({ push: false, branch: null });
    const lease = await takeLease({ pool });
    expect(lease.task.push).toBeNull();
  });

  it("pushes to codeforge/<task-id> when no branch is named (a file:// repository in local mode needs no token)", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool, push: true });
    expect(task).toMatchObject({ push: true, branch: `codeforge/${task.id}`, has_access_token: false });
    const lease = await takeLease({ pool });
    expect(lease.task_id).toBe(task.id);
    expect(lease.task.push).toEqual({ branch: `codeforge/${task.id}` });
  });

  it("pushes to the branch asked for, with the token handed to the runner for it", async () => {
    const pool = uniquePool();
    const task = await createTask({
      pool,
      repo: { url: "https://git.example/o/r.git", ref: "main" },
      push: true,
      branch: "feature/fix-login",
      access_token: "ghp_push_token_value",
    });
    expect(task).toMatchObject({ push: true, branch: "feature/fix-login", has_access_token: true });
    expect((await getTask(task.id)).branch).toBe("feature/fix-login");
    const lease = await takeLease({ pool });
    expect(lease.task.push).toEqual({ branch: "feature/fix-login" });
    expect(lease.task.access_token).toBe("ghp_push_token_value");
  });

  const badBranches: [string, unknown, RegExp][] = [
    ["a leading '-'", "--force", /must not start with '-'/],
    ["'..'", "a..b", /'\.\.'/],
    ["a space", "my branch", /only contain/],
    ["a shell character", "x;rm", /only contain/],
    ["HEAD", "HEAD", /not a branch name/],
    ["a '.lock' part", "x.lock/y", /\.lock/],
    ["a trailing '/'", "x/", /start or end with '\/'/],
    ["a part starting with '.'", "x/.y", /start with '\.'/],
    ["201 characters", "b".repeat(201), /1 to 200/],
    ["an empty name", "", /1 to 200/],
    ["a number", 7, /string/],
  ];
  for (const [what, branch, message] of badBranches) {
    it(`refuses a branch with ${what} (400 naming branch)`, async () => {
      const res = await apiFetch("/api/v1/tasks", { json: { ...taskSpec({ pool: uniquePool() }), push: true, branch } });
      const body = await expectError(res, 400, "validation_failed", "branch");
      expect(body.error.message).toMatch(message);
    });
  }

  it("refuses a branch without push: true", async () => {
    const res = await apiFetch("/api/v1/tasks", { json: taskSpec({ branch: "topic" }) });
    const body = await expectError(res, 400, "validation_failed", "branch");
    expect(body.error.message).toMatch(/only used with push: true/);
  });

  it("makes push part of what an Idempotency-Key guards: the same key with push: true is another request", async () => {
    const key = `push-${crypto.randomUUID()}`;
    const body = taskSpec({ pool: uniquePool() });
    const first = await apiFetch("/api/v1/tasks", { json: body, headers: { "Idempotency-Key": key } });
    expect(first.status).toBe(201);
    const same = await apiFetch("/api/v1/tasks", { json: { ...body, push: false }, headers: { "Idempotency-Key": key } });
    expect(same.status).toBe(200);
    await expectError(await apiFetch("/api/v1/tasks", { json: { ...body, push: true }, headers: { "Idempotency-Key": key } }), 409, "idempotency_conflict");
  });

  it("refuses push that is not a boolean", async () => {
    await expectError(await apiFetch("/api/v1/tasks", { json: { ...taskSpec(), push: "yes" } }), 400, "validation_failed", "push");
  });

  it("refuses push: true without an access_token for a remote repository, and says why", async () => {
    const pool = uniquePool();
    const res = await apiFetch("/api/v1/tasks", { json: taskSpec({ pool, repo: { url: "https://git.example/o/r.git" }, push: true }) });
    const body = await expectError(res, 400, "validation_failed", "access_token");
    expect(body.error.message).toMatch(/push: true needs an access_token .* file:\/\/ repositories/);
    // Nothing was made: no runner of the pool is offered a task.
    expect((await requestLease({ pool })).status).toBe(204);
  });
});

describe("result fields", () => {
  it("show the runner's cost, usage and pushed commit on the task", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool, push: true, branch: "done-here" });
    const lease = await startRunning(pool);
    expect(lease.task_id).toBe(task.id);
    const push = { branch: "done-here", commit_sha: "0123456789abcdef0123456789abcdef01234567" };
    const res = await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: { ...sampleResult(), push } });
    expect(res.status, await res.text()).toBe(200);
    const done = await getTask(task.id);
    expect(done.status).toBe("succeeded");
    expect(done.result).toMatchObject({
      cost_usd: 0.0123,
      usage: { input_tokens: 10, output_tokens: 20, cache_read_input_tokens: 5, cache_creation_input_tokens: null },
      push,
    });
  });

  it("show a push failure as a failed task with push_failed, the result and its patch kept", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool, push: true });
    const lease = await startRunning(pool);
    const error = { code: "push_failed" as const, message: "branch 'x' already exists on the remote with commits this task's change does not build on" };
    const res = await complete(task.id, lease.lease_id, { outcome: "failed", last_batch_seq: 0, result: sampleResult(), error });
    expect(res.status, await res.text()).toBe(200);
    const done = await getTask(task.id);
    expect(done).toMatchObject({ status: "failed", error });
    expect(done.result?.patch).toBe(sampleResult().patch);
    expect(done.result?.push).toBeNull();
  });

  it("accept a completion from a runner that predates cost_usd, usage and push, reading them as null", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool);
    const { cost_usd: _cost, usage: _usage, push: _push, ...old } = sampleResult();
    const res = await runnerPost(`/runner/v1/tasks/${task.id}/complete`, {
      lease_id: lease.lease_id,
      outcome: "succeeded",
      result: old,
      error: null,
      last_batch_seq: 0,
    });
    expect(res.status, await res.text()).toBe(200);
    expect((await getTask(task.id)).result).toMatchObject({ exit_code: 0, cost_usd: null, usage: null, push: null });
  });

  it("read a result and a spec stored before these fields existed as null and no push", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool, push: true });
    const lease = await startRunning(pool);
    await complete(task.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: sampleResult() });
    await runInDurableObject(taskObjectOf(task.id), (_instance, state) => {
      const sql = state.storage.sql;
      const { cost_usd: _cost, usage: _usage, push: _push, ...old } = sampleResult();
      const spec = JSON.parse(sql.exec<{ spec: string }>("SELECT spec FROM task").one().spec) as Record<string, unknown>;
      delete spec.push;
      delete spec.branch;
      sql.exec("UPDATE task SET result = ?, spec = ?", JSON.stringify(old), JSON.stringify(spec));
    });
    const read = await getTask(task.id);
    expect(read.result).toMatchObject({ final_message: "Added a README.", cost_usd: null, usage: null, push: null });
    expect(read).toMatchObject({ push: false, branch: null });
  });
});
