/**
 * Integration: a CLI's saved session (its conversation) through the real Worker and task objects
 * in workerd. The runner uploads it (`POST /runner/v1/tasks/:id/session`, signed, with its
 * lease) before it completes; the edge keeps it sealed at rest, shows it to no one, hands it to
 * the next iteration's lease only, keeps only the latest, and deletes it with the task.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { CLI_SESSION_ARCHIVE_MAX_CHARS } from "#api/limits.js";
import type { CliSession, Lease } from "#api/runner-protocol.js";
import type { TaskResult } from "#api/task-result.js";
import { allEvents, apiFetch, createTask, expectError, taskObjectOf, uniquePool } from "./api-client.js";
import { advanceClock, fireAlarm } from "./clock.js";
import { complete, runnerPost, sampleResult, startRunning } from "./runner-client.js";

/** What the transcript says: it must never be readable in storage, views, events or logs. */
const MARKER = "TRANSCRIPT-MARKER-the-agent-read-a-secret";

const encode = (text: string) => btoa(text);

function session(text = `{"prompt":"${MARKER}"}\n`, cli: CliSession["cli"] = "demo"): CliSession {
  return { cli, session_id: "0889bb26-2250-42b3-b87d-e1f4087f6188", archive: encode(text) };
}

const result = (): TaskResult => ({ ...sampleResult(), patch: "diff --git a/NOTES.md b/NOTES.md\n+- first\n", base_commit_sha: "c".repeat(40) });

const upload = (lease: Lease, body: CliSession) => runnerPost(`/runner/v1/tasks/${lease.task_id}/session`, { lease_id: lease.lease_id, session: body });

async function uploadOk(lease: Lease, body: CliSession): Promise<void> {
  const res = await upload(lease, body);
  expect(res.status, await res.clone().text()).toBe(200);
  expect(await res.json()).toEqual({ stored: true });
}

async function completeOk(lease: Lease): Promise<void> {
  const res = await complete(lease.task_id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: result() });
  expect(res.status, await res.clone().text()).toBe(200);
}

async function followUp(id: string, prompt: string): Promise<void> {
  const res = await apiFetch(`/api/v1/tasks/${id}/instructions`, { json: { prompt } });
  expect(res.status, await res.clone().text()).toBe(202);
}

/** Every stored row of the task's object, table by table, as text. */
const storage = (id: string) =>
  runInDurableObject(taskObjectOf(id), (_instance, state) => {
    const sql = state.storage.sql;
    const tables = sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name NOT LIKE '_cf%'")
      .toArray();
    return Object.fromEntries(tables.map(({ name }) => [name, JSON.stringify(sql.exec(`SELECT * FROM ${name}`).toArray())]));
  });

const sessionRows = (id: string) =>
  runInDurableObject(taskObjectOf(id), (_instance, state) =>
    state.storage.sql
      .exec<{ iteration: number; part: number; completed: number }>("SELECT iteration, part, completed FROM cli_sessions ORDER BY iteration, part")
      .toArray()
      .map((r) => ({ ...r })),
  );

describe("CLI sessions on the edge", () => {
  it("are kept sealed, shown to no one, and handed only to the next iteration's lease", async () => {
    const logged: string[] = [];
    for (const level of ["log", "warn", "error"] as const)
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(" ")));
    const pool = uniquePool();
    const task = await createTask({ pool });
    const first = await startRunning(pool);
    expect(first.task.resume).toBeNull();
    const saved = session();
    await uploadOk(first, saved);
    await completeOk(first);

    // Sealed at rest: neither the transcript nor its base64 is in any row of the object.
    const rows = await storage(task.id);
    expect(Object.keys(rows)).toContain("cli_sessions");
    for (const text of Object.values(rows)) {
      expect(text).not.toContain(MARKER);
      expect(text).not.toContain(saved.archive);
    }
    // Not in the task, its log, or its list entry.
    const views = [
      await (await apiFetch(`/api/v1/tasks/${task.id}`)).text(),
      JSON.stringify(await allEvents(task.id)),
      await (await apiFetch(`/api/v1/tasks?pool=${pool}`)).text(),
    ];
    for (const view of views) {
      expect(view).not.toContain(saved.archive);
      expect(view).not.toContain(saved.session_id);
    }

    await followUp(task.id, "Go on");
    const second = await startRunning(pool);
    expect(second.task.iteration).toBe(2);
    expect(second.task.resume).toEqual(saved);
    expect(atob(second.task.resume!.archive)).toContain(MARKER);
    // Nor in the edge's logs, which say only that a session was kept and is resumed.
    expect(logged.some((line) => line.includes('"msg":"cli session kept"'))).toBe(true);
    expect(logged.some((line) => line.includes('"resumes_session":true'))).toBe(true);
    for (const line of logged) expect(line).not.toContain(saved.archive);
    vi.restoreAllMocks();
  });

  it("keep only the latest iteration's: iteration 3 resumes iteration 2's, and iteration 1's is gone", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const one = await startRunning(pool);
    await uploadOk(one, session('{"n":1}\n'));
    await completeOk(one);
    await followUp(task.id, "Two");
    const two = await startRunning(pool);
    await uploadOk(two, session('{"n":2}\n'));
    await completeOk(two);
    expect(await sessionRows(task.id)).toEqual([{ iteration: 2, part: 0, completed: 1 }]);
    await followUp(task.id, "Three");
    const three = await startRunning(pool);
    expect(atob(three.task.resume!.archive)).toBe('{"n":2}\n');
  });

  it("start the next iteration fresh when the iteration before kept none", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const one = await startRunning(pool);
    await uploadOk(one, session());
    await completeOk(one);
    await followUp(task.id, "Two");
    // Iteration 2's CLI left no session (it failed to start, or its session was too big).
    await completeOk(await startRunning(pool));
    await followUp(task.id, "Three");
    const three = await startRunning(pool);
    // Iteration 1's conversation would not know what iteration 2 did.
    expect(three.task.resume).toBeNull();
  });

  it("count only once the lease that sent them completes: a lease lost after its upload leaves nothing", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool, max_attempts: 2 });
    const lost = await startRunning(pool);
    await uploadOk(lost, session('{"attempt":1}\n'));
    // The runner vanishes; its lease lapses and the task is leased again.
    advanceClock(10 * 60_000);
    await fireAlarm(task.id);
    const retry = await startRunning(pool);
    expect(retry.attempt).toBe(2);
    expect(await sessionRows(task.id)).toEqual([]);
    await completeOk(retry);
    await followUp(task.id, "Two");
    expect((await startRunning(pool)).task.resume).toBeNull();
  });

  it("are refused from a stale lease, for another CLI, when malformed or too big", async () => {
    const pool = uniquePool();
    await createTask({ pool });
    const lease = await startRunning(pool);
    await expectError(await upload(lease, session(undefined, "claude")), 400, "validation_failed", "session.cli");
    await expectError(await upload(lease, { ...session(), session_id: "--resume-me" }), 400, "validation_failed");
    await expectError(await upload(lease, { ...session(), archive: "not base64!" }), 400, "validation_failed");
    await expectError(await upload(lease, { ...session(), archive: "A".repeat(CLI_SESSION_ARCHIVE_MAX_CHARS + 4) }), 400, "validation_failed");
    await expectError(
      await runnerPost(`/runner/v1/tasks/${lease.task_id}/session`, { lease_id: lease.lease_id, session: { ...session(), archive: "A".repeat(3_200_000) } }),
      413,
      "payload_too_large",
    );
    // Other runner requests keep their 1 MiB limit.
    await expectError(
      await runnerPost(`/runner/v1/tasks/${lease.task_id}/heartbeat`, { lease_id: lease.lease_id, phase: "running", pad: "x".repeat(1_100_000) }),
      413,
      "payload_too_large",
    );
    await completeOk(lease);
    await expectError(await upload(lease, session()), 409, "lease_stale");
  });

  it("of the largest size are stored in parts and come back whole", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const one = await startRunning(pool);
    const big: CliSession = { ...session(), archive: "QUJD".repeat(CLI_SESSION_ARCHIVE_MAX_CHARS / 4) };
    await uploadOk(one, big);
    await completeOk(one);
    expect((await sessionRows(task.id)).length).toBeGreaterThan(2);
    await followUp(task.id, "Two");
    expect((await startRunning(pool)).task.resume).toEqual(big);
  });

  it("are deleted with the task when its retention ends", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const one = await startRunning(pool);
    await uploadOk(one, session());
    await completeOk(one);
    expect((await sessionRows(task.id)).length).toBe(1);
    advanceClock(31 * 86_400_000);
    await fireAlarm(task.id);
    expect((await apiFetch(`/api/v1/tasks/${task.id}`)).status).toBe(404);
    expect(await storage(task.id)).toEqual({});
  });
});
