/**
 * End to end, with every real part: the runner's modes for autoscalers. The edge under
 * `wrangler dev` and real runner processes started as `npm start` starts them: `--once` leases
 * one task, runs it to its end and exits 0 while the next task stays queued; an idle exit ends a
 * runner with nothing to do, exit 0; a run-once runner the edge refuses exits non-zero.
 */
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRunner, type ManagedProcess } from "../../scripts/local-stack.js";
import { startStack, type Stack } from "./local-stack.js";

let stack: Stack;
const started: ManagedProcess[] = [];

beforeAll(async () => {
  stack = await startStack({ runners: 0 });
}, 90_000);

afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()));
  await stack?.stop();
});

function runner(runnerId: string, options: { pool: string; args?: string[]; env?: Record<string, string>; secret?: string }): ManagedProcess {
  const proc = startRunner({
    edgeUrl: stack.edgeUrl,
    secret: options.secret ?? stack.runnerSecret,
    runnerId,
    stateDir: stack.stateDir,
    args: options.args,
    env: { CODEFORGE_POOL: options.pool, CODEFORGE_CLIS: "demo", CODEFORGE_SANDBOX: "none", ...options.env },
  });
  started.push(proc);
  return proc;
}

/** The process's exit code, waiting at most `timeoutMs`. */
async function exitCode(proc: ManagedProcess, timeoutMs: number): Promise<number | null> {
  if (proc.child.exitCode === null && proc.child.signalCode === null) {
    await Promise.race([once(proc.child, "exit"), new Promise((r) => setTimeout(r, timeoutMs))]);
  }
  return proc.child.exitCode;
}

const log = (proc: ManagedProcess) => readFileSync(proc.logFile, "utf8").slice(proc.logOffset);

describe("runners for autoscalers", () => {
  it("--once leases one task, runs it to its end and exits 0; the second task stays queued", async () => {
    const pool = "run-once";
    const input = { repo: { url: stack.repoUrl, ref: "main" }, prompt: "Once", cli: "demo" as const, timeout_seconds: 60, pool };
    const tasks = [await stack.client.createTask(input), await stack.client.createTask(input)];
    const proc = runner("once-runner", { pool, args: ["--once"] });
    expect(await exitCode(proc, 60_000), log(proc)).toBe(0);
    const after = await Promise.all(tasks.map((t) => stack.client.getTask(t.id)));
    expect(after.map((t) => t.status).sort()).toEqual(["queued", "succeeded"]);
    expect(after.find((t) => t.status === "succeeded")?.result?.exit_code).toBe(0);
    expect(log(proc)).toContain("run-once: leased task finished, not leasing again");

    // The queued one is still there for the next pod: CODEFORGE_ONCE=1 takes it.
    const next = runner("once-runner-2", { pool, env: { CODEFORGE_ONCE: "1" } });
    expect(await exitCode(next, 60_000), log(next)).toBe(0);
    const all = await Promise.all(tasks.map((t) => stack.client.getTask(t.id)));
    expect(all.map((t) => t.status)).toEqual(["succeeded", "succeeded"]);
  }, 150_000);

  it("exits 0 after CODEFORGE_IDLE_EXIT_SECONDS with nothing leased and nothing running", async () => {
    const begun = Date.now();
    const proc = runner("idle-runner", { pool: "idle-pool", env: { CODEFORGE_IDLE_EXIT_SECONDS: "3" } });
    expect(await exitCode(proc, 60_000), log(proc)).toBe(0);
    expect(Date.now() - begun).toBeGreaterThanOrEqual(3_000);
    expect(log(proc)).toContain("idle: nothing leased or running for the idle exit time");
  }, 90_000);

  it("a run-once runner the edge refuses exits non-zero instead of waiting for ever, its secret in no line", async () => {
    const wrong = "cf_runner_not-one-of-the-edge-secrets-0123456789";
    const proc = runner("refused-runner", { pool: "refused-pool", args: ["--once"], secret: wrong });
    expect(await exitCode(proc, 60_000), log(proc)).toBe(1);
    expect(log(proc)).toContain("lease request refused");
    expect(log(proc)).not.toContain(wrong);
  }, 90_000);
});
