/**
 * End to end, with every real part: follow-ups. The edge under `wrangler dev`, two runner
 * processes, a real git repository and the demo CLI (which appends a line per request to
 * CODEFORGE_NOTES.md). Iteration 1 makes a change; iteration 2, on whichever runner is free,
 * starts from it — the CLI edits the file it left, and resumes the conversation iteration 1's
 * CLI kept with the edge — and its patch holds both lines; the log, the stream and
 * `codeforge followup` show the iterations in order.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentEvent, StreamEvent } from "#api/stream-events.js";
import { followTask } from "../../client/follow-task.js";
import { PROJECT_ROOT } from "../../scripts/local-stack.js";
import { startStack, type Stack } from "./local-stack.js";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ runners: 2 });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

async function collect(taskId: string, since = 0): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const event of followTask(stack.client, taskId, { since })) events.push(event);
  return events;
}

async function allEvents(taskId: string): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  let since = 0;
  for (;;) {
    const page = await stack.client.events(taskId, { since, limit: 1_000 });
    events.push(...page.events);
    if (!page.has_more) return events;
    since = page.next_since;
  }
}

const tools = (events: StreamEvent[]) => events.flatMap((e) => (e.type === "agent" && e.kind === "tool_use" ? [(e as AgentEvent).tool] : []));

function codeforge(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(PROJECT_ROOT, "bin", "codeforge.js"), ...args],
      { env: { PATH: process.env.PATH, HOME: stack.stateDir, CODEFORGE_URL: stack.edgeUrl, CODEFORGE_API_KEY: stack.adminKey }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("a follow-up, end to end", () => {
  let taskId: string;

  it("iteration 2 sees iteration 1's change, and its patch holds both", async () => {
    const task = await stack.client.createTask({ repo: { url: stack.repoUrl, ref: "main" }, prompt: "First change", cli: "demo", timeout_seconds: 60 });
    taskId = task.id;
    const first = await collect(taskId);
    expect(first.at(-1)).toMatchObject({ type: "status", status: "succeeded", iteration: 1 });
    expect(tools(first)).toEqual(["Write"]);
    const afterFirst = await stack.client.getTask(taskId);
    expect(afterFirst.result?.patch).toContain("+- First change\n");
    expect(afterFirst.result?.base_commit_sha).toMatch(/^[0-9a-f]{40}$/);

    const followed = await stack.client.followUp(taskId, { prompt: "Second change" });
    expect(followed).toMatchObject({ status: "queued", iteration: 2, prompt: "Second change", result: null });
    const since = followed.iterations[1]!.first_seq - 1;
    const second = await collect(taskId, since);
    expect(second[0]).toMatchObject({ type: "iteration", iteration: 2, prompt: "Second change" });
    expect(second.every((e) => e.iteration === 2)).toBe(true);
    expect(second.at(-1)).toMatchObject({ type: "status", status: "succeeded" });
    // The file was there when the CLI started: it edited it.
    expect(tools(second)).toEqual(["Edit"]);
    // The conversation went on: iteration 1's session came back from the edge in the lease.
    const texts = (events: StreamEvent[]) => events.flatMap((e) => (e.type === "agent" && e.kind === "text" ? [(e as AgentEvent).text] : []));
    const logs = (events: StreamEvent[]) => events.flatMap((e) => (e.type === "log" ? [(e as { message: string }).message] : []));
    expect(logs(first).some((line) => line.startsWith("Kept the demo session for a follow-up"))).toBe(true);
    expect(logs(second)).toContain("Resuming the previous iteration's demo session.");
    expect(texts(second)).toContain('Continuing our conversation; earlier requests: "First change".');
    // Never shown back: the task says nothing of it.
    expect(JSON.stringify(await stack.client.getTask(taskId))).not.toContain("session");

    const done = await stack.client.getTask(taskId);
    expect(done).toMatchObject({ status: "succeeded", iteration: 2, attempt: 1 });
    expect(done.result?.changed_files).toEqual([{ path: "CODEFORGE_NOTES.md", status: "added" }]);
    expect(done.result?.patch).toContain("+- First change\n");
    expect(done.result?.patch).toContain("+- Second change\n");
    expect(done.result?.base_commit_sha).toBe(afterFirst.result?.base_commit_sha);
    expect(done.iterations.map((i) => [i.n, i.prompt, i.status])).toEqual([
      [1, "First change", "succeeded"],
      [2, "Second change", "succeeded"],
    ]);
  });

  it("shows both iterations in order in the events endpoint, each with its own status sequence", async () => {
    const events = await allEvents(taskId);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const iterations = events.map((e) => e.iteration);
    expect(iterations).toEqual([...iterations].sort((a, b) => a - b));
    const statuses = (n: number) => events.filter((e) => e.type === "status" && e.iteration === n).map((e) => (e as { status: string }).status);
    expect(statuses(1)).toEqual(["queued", "leased", "running", "succeeded"]);
    expect(statuses(2)).toEqual(["queued", "leased", "running", "succeeded"]);
    expect(events.filter((e) => e.type === "result").map((e) => e.iteration)).toEqual([1, 2]);
    // A watcher from the start sees the whole story, not just the first iteration.
    const watched = await collect(taskId);
    expect(watched.map((e) => e.seq)).toEqual(events.map((e) => e.seq));
  });

  it("codeforge followup --follow runs the next iteration and exits with its outcome", async () => {
    const run = await codeforge(["followup", taskId, "--prompt", "Third change", "--follow"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${taskId}: iteration 3 submitted`);
    expect(run.stdout).toContain("● iteration 3: Third change");
    // Iteration 1's own events are not replayed (its text may still show inside the file's old content).
    expect(run.stdout).not.toContain('Noted "First change"');
    expect(run.stdout).toMatch(/status {4}succeeded/);
    const task = await stack.client.getTask(taskId);
    expect(task.iteration).toBe(3);
    for (const line of ["First change", "Second change", "Third change"]) expect(task.result?.patch).toContain(`+- ${line}\n`);

    // Usage errors exit 2 before anything is sent.
    const noPrompt = await codeforge(["followup", taskId]);
    expect(noPrompt.code).toBe(2);
    expect(noPrompt.stderr).toContain("followup needs --prompt");
    const noId = await codeforge(["followup", "--prompt", "x"]);
    expect(noId.code).toBe(2);
    expect(noId.stderr).toContain("followup needs <task-id>");
    expect((await stack.client.getTask(taskId)).iteration).toBe(3);

    // Refused while running, with the contract's error: exit code 3 (the API refused).
    const busy = await stack.client.createTask({
      repo: { url: stack.repoUrl, ref: "main" },
      prompt: "Wait [demo:sleep=60000]",
      cli: "demo",
      timeout_seconds: 60,
    });
    await expect.poll(async () => (await stack.client.getTask(busy.id)).status, { timeout: 15_000 }).toBe("running");
    const refused = await codeforge(["followup", busy.id, "--prompt", "More"]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/invalid_state: task is running/);
    await stack.client.cancelTask(busy.id);
  });
});
