// Integration, end to end in Node: a real HTTP fake edge, the real signed client, lease loop,
// task runner, git against file:// repositories, and the demo CLI as a real child process.
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { TaskResult, type OutputEvent, type RunnerEvent } from "#api/index.js";
import { processesIn } from "./harness/test-runner.js";
import { useRunner } from "./harness/use-runner.js";

const h = useRunner({ doneTimeoutMs: 15_000 });
const startRunner = (options: { localMode?: boolean } = {}) =>
  h.start({ runnerId: "e2e-runner", taskRunner: { gitPolicy: { allowFile: options.localMode ?? true, allowSsh: false } } });

function stdoutOf(events: RunnerEvent[]): OutputEvent[] {
  return events.filter((e): e is OutputEvent => e.type === "output" && e.stream === "stdout");
}

describe("runner end to end", () => {
  it("leases, clones, runs the demo CLI, streams events in sequence and completes with the change", async () => {
    await startRunner();
    const task = h.enqueue({ prompt: "Write the changelog\nwith details" });
    const completion = await h.done(task);

    expect(h.edge.violations).toEqual([]);
    expect(completion.error).toBeNull();
    expect(completion.outcome).toBe("succeeded");
    expect(TaskResult.safeParse(completion.result).success).toBe(true);
    const result = completion.result!;
    expect(result.exit_code).toBe(0);
    expect(result.changed_files).toEqual([{ path: "CODEFORGE_NOTES.md", status: "added" }]);
    expect(result.diff_stat).toEqual({ files_changed: 1, insertions: 5, deletions: 0 });
    expect(result.patch).toContain("+- Write the changelog");
    expect(result.final_message).toBe('Noted "Write the changelog" in CODEFORGE_NOTES.md.');
    expect(completion.last_batch_seq).toBe(task.batches.length);
    expect(task.batches.map((b) => b.batch_seq)).toEqual(task.batches.map((_, i) => i + 1));

    expect(task.heartbeats.some((h) => h.phase === "running")).toBe(true);
    const events = h.edge.events(task.id);
    expect(events[0]).toEqual({ type: "log", source: "runner", level: "info", message: `Cloning ${h.fixture.url} (main)` });
    const agentKinds = events.filter((e) => e.type === "agent").map((e) => (e as { kind: string }).kind);
    expect(agentKinds).toEqual(["init", "text", "tool_use", "tool_result", "text", "result"]);
    // The raw output is complete and contiguous.
    const stdout = stdoutOf(events);
    let offset = 0;
    for (const chunk of stdout) {
      expect(chunk.offset).toBe(offset);
      offset += Buffer.byteLength(chunk.text);
    }
    expect(stdout.map((c) => c.text).join("")).toMatch(/^\{"type":"system","subtype":"init"[\s\S]*"type":"result"[\s\S]*\n$/);
    // The workspace is gone.
    await h.edge.waitFor(() => readdirSync(h.workspaceRoot).length === 0);
  });

  it("reports a failing CLI as cli_failed with its exit code and stderr streamed", async () => {
    await startRunner();
    const task = h.enqueue({ repo: { url: h.fixture.url, ref: null }, prompt: "Break [demo:exit=3][demo:stderr=something went wrong]" });
    const completion = await h.done(task);
    expect(completion.outcome).toBe("failed");
    expect(completion.error).toEqual({ code: "cli_failed", message: "demo exited with code 3" });
    expect(completion.result?.exit_code).toBe(3);
    const stderr = h.edge.events(task.id).filter((e) => e.type === "output" && e.stream === "stderr");
    expect(stderr.map((e) => (e as OutputEvent).text).join("")).toBe("something went wrong\n");
    expect(h.edge.violations).toEqual([]);
  });

  it("reports a clone failure as clone_failed and never starts the CLI", async () => {
    await startRunner();
    const task = h.enqueue({ repo: { url: h.fixture.url, ref: "does-not-exist" } });
    const completion = await h.done(task);
    expect(completion.outcome).toBe("failed");
    expect(completion.error?.code).toBe("clone_failed");
    expect(completion.error?.message).toContain("does-not-exist");
    expect(completion.result).toBeNull();
    expect(task.heartbeats.filter((h) => h.phase === "running")).toEqual([]);
  });

  it("refuses a file:// repository when local mode is off", async () => {
    await startRunner({ localMode: false });
    const task = h.enqueue({ repo: { url: h.fixture.url, ref: null } });
    const completion = await h.done(task);
    expect(completion.error).toEqual({ code: "clone_failed", message: "repository refused: file:// repositories are only accepted in local mode" });
  });

  it("cancels through the heartbeat ack: the CLI is killed and the task reported canceled", async () => {
    await startRunner();
    const task = h.enqueue({ repo: { url: h.fixture.url, ref: null }, prompt: "Wait [demo:sleep=60000]" });
    await h.edge.waitFor(() => task.status === "running" && processesIn(task.id).length > 0);
    const cancelledAt = Date.now();
    h.edge.cancel(task.id);
    const completion = await h.done(task);
    expect(Date.now() - cancelledAt).toBeLessThan(3_000);
    expect(completion.outcome).toBe("canceled");
    expect(completion.error?.code).toBe("canceled");
    expect(completion.result?.exit_code).toBeNull();
    expect(processesIn(task.id)).toEqual([]);
    expect(h.edge.violations).toEqual([]);
  });

  it("times out a CLI that runs past timeout_seconds", async () => {
    await startRunner();
    const task = h.enqueue({ repo: { url: h.fixture.url, ref: null }, prompt: "Wait [demo:sleep=60000]", timeout_seconds: 1 });
    const completion = await h.done(task);
    expect(completion.outcome).toBe("timed_out");
    expect(completion.error?.code).toBe("timed_out");
    expect(processesIn(task.id)).toEqual([]);
  });

  it("stops the CLI and reports nothing once the lease is stale", async () => {
    await startRunner();
    const task = h.enqueue({ repo: { url: h.fixture.url, ref: null }, prompt: "Wait [demo:sleep=60000]" });
    await h.edge.waitFor(() => task.status === "running" && processesIn(task.id).length > 0);
    h.edge.revoke(task.id);
    await h.edge.waitFor(() => processesIn(task.id).length === 0, 5_000);
    await h.edge.waitFor(() => readdirSync(h.workspaceRoot).length === 0);
    expect(task.completion).toBeNull();
  });

  it("retries event batches through edge failures without gaps or changed content", async () => {
    await startRunner();
    h.edge.failEvents(3, 503);
    const task = h.enqueue({ repo: { url: h.fixture.url, ref: null }, prompt: "Flaky network [demo:lines=50]" });
    const completion = await h.done(task);
    expect(completion.outcome).toBe("succeeded");
    expect(h.edge.violations).toEqual([]);
    const texts = h.edge.events(task.id).filter((e) => e.type === "agent" && e.kind === "text");
    expect(texts.length).toBe(52);
  });

  it("delivers a large output stream completely", async () => {
    await startRunner();
    const task = h.enqueue({ repo: { url: h.fixture.url, ref: null }, prompt: "Bulk [demo:bytes=3000000]" });
    const completion = await h.done(task);
    expect(completion.outcome).toBe("succeeded");
    const stdout = stdoutOf(h.edge.events(task.id));
    const last = stdout.at(-1)!;
    const total = last.offset + Buffer.byteLength(last.text);
    expect(total).toBeGreaterThan(3_000_000);
    expect(stdout.map((c) => c.text).join("")).toContain("The quick brown fox");
    expect(h.edge.violations).toEqual([]);
  });

  it("at shutdown, stops a running task after the grace period and hands it back", async () => {
    await startRunner();
    const task = h.enqueue({ repo: { url: h.fixture.url, ref: null }, prompt: "Wait [demo:sleep=60000]" });
    await h.edge.waitFor(() => task.status === "running" && processesIn(task.id).length > 0);
    const leaseId = task.lease!.lease_id;
    await h.loop.stop(200);
    expect(processesIn(task.id)).toEqual([]);
    expect(task.completion).toBeNull();
    expect(task.releases).toEqual([{ lease_id: leaseId, reason: "runner shutting down" }]);
    // The output so far, and why it stopped, reached the edge before the hand-back.
    expect(h.edge.events(task.id)).toContainEqual(expect.objectContaining({ type: "log", level: "warn", message: expect.stringContaining("handed back") }));
    expect(task.status).toBe("queued");
    expect(readdirSync(h.workspaceRoot)).toEqual([]);
    expect(h.edge.violations).toEqual([]);
  });

  it("at shutdown, leaves the lease to lapse when the hand-back fails", async () => {
    await startRunner();
    h.edge.failReleases(5, 503);
    const task = h.enqueue({ repo: { url: h.fixture.url, ref: null }, prompt: "Wait [demo:sleep=60000]" });
    await h.edge.waitFor(() => task.status === "running" && processesIn(task.id).length > 0);
    await h.loop.stop(200);
    expect(processesIn(task.id)).toEqual([]);
    expect(task.completion).toBeNull();
    expect(task.releases).toEqual([]);
    expect(task.status).toBe("running");
    expect(readdirSync(h.workspaceRoot)).toEqual([]);
  });
});
