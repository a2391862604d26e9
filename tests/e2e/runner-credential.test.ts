/**
 * End to end, with every real part: a runner that holds a pool's short-lived credential instead
 * of the runner secret. An admin mints it over the API of the edge under `wrangler dev`; a real
 * runner process given only that credential leases its pool's task, runs it and reports it;
 * the credential's secret appears in no log line of the edge or the runner.
 */
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunnerCredential } from "#api/runner-credential.js";
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

async function mint(pool: string): Promise<RunnerCredential> {
  const res = await fetch(`${stack.edgeUrl}/api/v1/runner-credentials`, {
    method: "POST",
    headers: { ...stack.client.authHeaders, "content-type": "application/json" },
    body: JSON.stringify({ pool, ttl_seconds: 600 }),
  });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(201);
  return RunnerCredential.parse(body);
}

/** A runner given the credential and no runner secret (a blank variable is unset). */
function scopedRunner(runnerId: string, credential: string, env: Record<string, string> = {}): ManagedProcess {
  const proc = startRunner({
    edgeUrl: stack.edgeUrl,
    secret: "",
    runnerId,
    stateDir: stack.stateDir,
    args: ["--once"],
    env: { CODEFORGE_RUNNER_CREDENTIAL: credential, CODEFORGE_CLIS: "demo", CODEFORGE_SANDBOX: "none", ...env },
  });
  started.push(proc);
  return proc;
}

async function exitCode(proc: ManagedProcess, timeoutMs: number): Promise<number | null> {
  if (proc.child.exitCode === null && proc.child.signalCode === null) {
    await Promise.race([once(proc.child, "exit"), new Promise((r) => setTimeout(r, timeoutMs))]);
  }
  return proc.child.exitCode;
}

const log = (proc: ManagedProcess) => readFileSync(proc.logFile, "utf8").slice(proc.logOffset);

describe("a runner with a pool's credential", () => {
  it("leases and runs its pool's task with no runner secret, and its secret is in no log", async () => {
    const credential = await mint("scoped");
    const secret = credential.credential.slice(credential.credential_id.length + 1);
    const task = await stack.client.createTask({
      repo: { url: stack.repoUrl, ref: "main" },
      prompt: "Scoped",
      cli: "demo",
      timeout_seconds: 60,
      pool: "scoped",
    });
    // The pool comes from the credential: CODEFORGE_POOL is not set.
    const proc = scopedRunner("scoped-runner", credential.credential);
    expect(await exitCode(proc, 60_000), log(proc)).toBe(0);
    const done = await stack.client.getTask(task.id);
    expect(done).toMatchObject({ status: "succeeded", runner_id: "scoped-runner" });
    expect(log(proc)).toContain(credential.credential_id); // its id is logged, to tell credentials apart
    const everything = `${stack.logs()}\n${log(proc)}\n${JSON.stringify(done)}`;
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(stack.runnerSecret);
  }, 120_000);

  it("refuses to start for another pool than its credential's, naming the setting and not the secret", async () => {
    const credential = await mint("scoped-elsewhere");
    const proc = scopedRunner("misconfigured-runner", credential.credential, { CODEFORGE_POOL: "other" });
    expect(await exitCode(proc, 60_000), log(proc)).toBe(1);
    expect(log(proc)).toContain('pool (CODEFORGE_POOL): the runner credential is for pool "scoped-elsewhere", not "other"');
    expect(log(proc)).not.toContain(credential.credential.slice(credential.credential_id.length + 1));
  }, 90_000);
});
