/**
 * End to end, with every real part: the Worker and its Durable Objects under `wrangler dev`, a
 * runner process, a real git repository, the demo CLI as a child process, HTTP and WebSockets.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StreamEvent, streamFrameEvents } from "#api/stream-events.js";
import { followTask } from "../../client/follow-task.js";
import { startStack, type Stack } from "./local-stack.js";

let stack: Stack;

/** A token given with pushing tasks (a file:// remote never asks for it): it must appear in no log. */
const PUSH_TOKEN = `ghp_e2ePushToken${Date.now()}`;

beforeAll(async () => {
  stack = await startStack();
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

async function collect(taskId: string, since = 0): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const event of followTask(stack.client, taskId, { since })) events.push(event);
  return events;
}

/**
 * Raw WebSocket: every frame until the server's close frame, and its close code. wrangler dev's
 * proxy keeps the TCP connection for ~10 s after the close frame, so the test does not wait for
 * the socket itself to close: it watches for the CLOSING state that the close frame causes.
 */
function rawStream(taskId: string, since: number): Promise<{ events: StreamEvent[]; code: number }> {
  return new Promise((resolve, reject) => {
    const events: StreamEvent[] = [];
    const ws = new WebSocket(stack.client.streamUrl(taskId, since), { headers: stack.client.authHeaders });
    const finish = (code: number) => {
      clearInterval(poll);
      ws.terminate();
      resolve({ events, code });
    };
    const poll = setInterval(() => {
      // ws keeps the code of a received close frame here; CLOSING means that frame arrived.
      const code = (ws as unknown as { _closeCode: number })._closeCode;
      if (ws.readyState === WebSocket.CLOSING && code !== 1006) finish(code);
    }, 5);
    ws.on("message", (data) => events.push(...streamFrameEvents(String(data))));
    ws.on("close", (code) => finish(code));
    ws.on("error", (err) => {
      clearInterval(poll);
      reject(err);
    });
  });
}

/** Pids of live processes whose command line contains `text`. */
function commandLinesContaining(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(text)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** Pids of live processes working in a task's workspace (the runner names it after the task). */
function processesIn(taskId: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`).includes(taskId)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked, or is not ours to inspect
    }
  }
  return pids;
}

describe("a task, end to end", () => {
  let taskId: string;
  let events: StreamEvent[];

  it("runs the demo CLI on the repository and streams its output live", async () => {
    const task = await stack.client.createTask({
      repo: { url: stack.repoUrl, ref: "main" },
      prompt: "Write down that the end-to-end test passed",
      cli: "demo",
      timeout_seconds: 60,
    });
    expect(task.status).toBe("queued");
    taskId = task.id;
    events = await collect(taskId);

    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const statuses = events.filter((e) => e.type === "status").map((e) => (e as { status: string }).status);
    expect(statuses).toEqual(["queued", "leased", "running", "succeeded"]);
    const kinds = new Set(events.filter((e) => e.type === "agent").map((e) => (e as { kind: string }).kind));
    expect(kinds).toEqual(new Set(["init", "text", "tool_use", "tool_result", "result"]));
    expect(events.some((e) => e.type === "output" && e.stream === "stdout" && e.text.includes('"type":"result"'))).toBe(true);
  });

  it("reports the change it made to the repository", async () => {
    const task = await stack.client.getTask(taskId);
    expect(task.status).toBe("succeeded");
    expect(task.attempt).toBe(1);
    expect(task.runner_id).toBe("e2e-runner-1");
    expect(task.result?.exit_code).toBe(0);
    expect(task.result?.changed_files).toEqual([{ path: "CODEFORGE_NOTES.md", status: "added" }]);
    expect(task.result?.diff_stat.files_changed).toBe(1);
    expect(task.result?.patch).toContain("+- Write down that the end-to-end test passed");
    expect(task.result?.final_message).toBeTruthy();
    const resultEvent = events.find((e) => e.type === "result");
    expect(resultEvent).toMatchObject({ type: "result", result: { exit_code: 0 } });
  });

  it("replays exactly what a reconnecting watcher missed, then closes cleanly", async () => {
    const all = await rawStream(taskId, 0);
    expect(all.code).toBe(1000);
    expect(all.events).toEqual(events);

    const cut = Math.floor(events.length / 2);
    const rest = await rawStream(taskId, cut);
    expect(rest.code).toBe(1000);
    expect(rest.events.map((e) => e.seq)).toEqual(events.slice(cut).map((e) => e.seq));
  });

  it("serves the same log as paginated JSON", async () => {
    const paged: StreamEvent[] = [];
    let since = 0;
    for (;;) {
      const page = await stack.client.events(taskId, { since, limit: 3 });
      paged.push(...page.events);
      since = page.next_since;
      if (!page.has_more) break;
    }
    expect(paged).toEqual(events);
  });
});

describe("cancel", () => {
  it("terminates a running CLI within seconds", async () => {
    const marker = `private-prompt-${Date.now()}`;
    const task = await stack.client.createTask({
      repo: { url: stack.repoUrl },
      prompt: `Wait a long time ${marker} [demo:sleep=120000]`,
      cli: "demo",
      timeout_seconds: 300,
    });
    const seen: StreamEvent[] = [];
    let canceledAt = 0;
    for await (const event of followTask(stack.client, task.id)) {
      seen.push(event);
      if (event.type === "status" && event.status === "running") {
        // The CLI is up: it must be a live process now, and gone soon after the cancel.
        await expect.poll(() => processesIn(task.id).length, { timeout: 5_000 }).toBeGreaterThan(0);
        // The prompt reaches the CLI on stdin: no local user can read it through ps.
        expect(commandLinesContaining(marker)).toEqual([]);
        const answer = await stack.client.cancelTask(task.id);
        expect(answer.cancel_requested).toBe(true);
        canceledAt = Date.now();
      }
    }
    const final = seen.at(-1)!;
    expect(final).toMatchObject({ type: "status", status: "canceled" });
    expect(Date.now() - canceledAt).toBeLessThan(8_000);
    expect(processesIn(task.id)).toEqual([]);
    expect((await stack.client.getTask(task.id)).status).toBe("canceled");
  });

  it("ends a queued task at once", async () => {
    // No runner serves this label, so the task stays queued until canceled.
    const task = await stack.client.createTask({ repo: { url: stack.repoUrl }, prompt: "never runs", cli: "demo", labels: ["gpu"] });
    const canceled = await stack.client.cancelTask(task.id);
    expect(canceled.status).toBe("canceled");
    expect(canceled.error?.code).toBe("canceled");
  });
});

describe("large prompts", () => {
  it("runs a prompt far beyond what a command-line argument can hold", async () => {
    const head = `Summarize the attached notes ${Date.now()}`;
    const prompt = `${head}\n${"note: all good\n".repeat(12_000)}`; // ~170 KB; one argv string is capped at 128 KiB
    const task = await stack.client.createTask({ repo: { url: stack.repoUrl }, prompt, cli: "demo", timeout_seconds: 60 });
    for await (const _ of followTask(stack.client, task.id)) {
      // drain until the task ends
    }
    const done = await stack.client.getTask(task.id);
    expect(done.status).toBe("succeeded");
    expect(done.result?.patch).toContain(`+- ${head}`);
  });
});

describe("push", () => {
  const bareGit = (...args: string[]) => execFileSync("git", ["--git-dir", fileURLToPath(stack.repoUrl), ...args], { encoding: "utf8" }).trim();
  const runToEnd = async (taskId: string) => {
    for await (const _ of followTask(stack.client, taskId)) {
      // drain until the task ends
    }
    return stack.client.getTask(taskId);
  };

  it("commits the change and pushes it to codeforge/<task-id>: the task names branch and commit, and git has them", async () => {
    const created = await stack.client.createTask({
      repo: { url: stack.repoUrl, ref: "main" },
      prompt: "Note that pushing works end to end\nwith a second line",
      cli: "demo",
      push: true,
      access_token: PUSH_TOKEN,
      timeout_seconds: 60,
    });
    expect(created).toMatchObject({ push: true, branch: `codeforge/${created.id}` });
    const task = await runToEnd(created.id);
    expect(task.status).toBe("succeeded");
    expect(task.result?.push).toEqual({ branch: `codeforge/${task.id}`, commit_sha: expect.stringMatching(/^[0-9a-f]{40}$/) });
    const sha = task.result!.push!.commit_sha;
    expect(bareGit("rev-parse", `refs/heads/codeforge/${task.id}`)).toBe(sha);
    expect(bareGit("show", `${sha}:CODEFORGE_NOTES.md`)).toContain("- Note that pushing works end to end");
    expect(bareGit("log", "-1", "--format=%s|%an <%ae>", sha)).toBe("Note that pushing works end to end|CodeForge <codeforge@localhost>");
    expect(bareGit("log", "-1", "--format=%b", sha)).toContain(`CodeForge-Task: ${task.id}`);
    expect(bareGit("rev-parse", `${sha}^`)).toBe(bareGit("rev-parse", "refs/heads/main"));
    // The demo CLI reports its spend in its closing result line, as Claude Code does.
    expect(task.result?.cost_usd).toBe(0);
    expect(task.result?.usage).toMatchObject({
      input_tokens: expect.any(Number),
      output_tokens: expect.any(Number),
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
    });
  });

  it("pushes to the branch asked for, and never force-pushes over it afterwards", async () => {
    const branch = `e2e/named-${Date.now()}`;
    const first = await runToEnd(
      (
        await stack.client.createTask({
          repo: { url: stack.repoUrl, ref: "main" },
          prompt: "First to the branch",
          cli: "demo",
          push: true,
          branch,
          timeout_seconds: 60,
        })
      ).id,
    );
    expect(first.status).toBe("succeeded");
    expect(first.result?.push?.branch).toBe(branch);
    expect(bareGit("rev-parse", `refs/heads/${branch}`)).toBe(first.result!.push!.commit_sha);

    const second = await runToEnd(
      (
        await stack.client.createTask({
          repo: { url: stack.repoUrl, ref: "main" },
          prompt: "Second to the branch",
          cli: "demo",
          push: true,
          branch,
          timeout_seconds: 60,
        })
      ).id,
    );
    expect(second.status).toBe("failed");
    expect(second.error?.code).toBe("push_failed");
    expect(second.error?.message).toMatch(/already exists on the remote .*never force-pushes/);
    expect(second.result?.patch).toContain("+- Second to the branch");
    expect(second.result?.push).toBeNull();
    expect(bareGit("rev-parse", `refs/heads/${branch}`)).toBe(first.result!.push!.commit_sha);
  });

  it("refuses a bad branch name with a 400 naming the field", async () => {
    const response = await fetch(`${stack.edgeUrl}/api/v1/tasks`, {
      method: "POST",
      headers: { ...stack.client.authHeaders, "content-type": "application/json" },
      body: JSON.stringify({ repo: { url: stack.repoUrl }, prompt: "x", cli: "demo", push: true, branch: "--delete" }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: unknown }).error).toMatchObject({ code: "validation_failed", field: "branch" });
  });
});

describe("bad input over real HTTP", () => {
  it("answers an unknown CLI with a 400 naming the field", async () => {
    const response = await fetch(`${stack.edgeUrl}/api/v1/tasks`, {
      method: "POST",
      headers: { ...stack.client.authHeaders, "content-type": "application/json" },
      body: JSON.stringify({ repo: { url: stack.repoUrl }, prompt: "x", cli: "vim" }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; field: string; request_id: string } };
    expect(body.error).toMatchObject({ code: "validation_failed", field: "cli" });
    expect(body.error.request_id).toBe(response.headers.get("x-request-id"));
  });
});

describe("secrets", () => {
  it("never appear in the edge's or the runner's logs", () => {
    const logs = stack.logs();
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(stack.adminKey);
    expect(logs).not.toContain(stack.runnerSecret);
    expect(logs).not.toContain(PUSH_TOKEN);
  });
});
