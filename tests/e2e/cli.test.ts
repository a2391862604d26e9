/**
 * The `codeforge` command, run as a real process (bin/codeforge.js) against the real edge and
 * a real runner: what it prints and the exit codes scripts rely on.
 */
import { execFile, execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLE_TASK } from "../../api/openapi.js";
import { Task } from "../../api/task.js";
import { taskSummary } from "../../client/cli/output.js";
import { PROJECT_ROOT } from "../../scripts/local-stack.js";
import { startStack, type Stack } from "./local-stack.js";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function codeforge(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(PROJECT_ROOT, "bin", "codeforge.js"), ...args],
      {
        env: { PATH: process.env.PATH, HOME: stack.stateDir, CODEFORGE_URL: stack.edgeUrl, CODEFORGE_API_KEY: stack.adminKey, ...env },
        timeout: 60_000,
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("codeforge", () => {
  it("submits with --follow, streams the task live and exits 0 when it succeeds", async () => {
    const run = await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "Note the CLI test", "--follow"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^submitted tsk_/);
    expect(run.stdout).toContain("● running");
    expect(run.stdout).toMatch(/status {4}succeeded/);
    expect(run.stdout).toContain("CODEFORGE_NOTES.md");
  });

  it("submits with --push --branch: the summary names the pushed commit, which git has, and what the CLI reported using", async () => {
    const run = await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "Push from the CLI", "--push", "--branch", "cli/pushed", "--follow"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const pushed = /pushed {4}([0-9a-f]{40}) to branch cli\/pushed/.exec(run.stdout);
    expect(pushed, run.stdout).not.toBeNull();
    expect(execFileSync("git", ["--git-dir", fileURLToPath(stack.repoUrl), "rev-parse", "refs/heads/cli/pushed"], { encoding: "utf8" }).trim()).toBe(pushed![1]);
    expect(run.stdout).toMatch(/usage {5}\$0\.0000, \d+ in \/ \d+ out tokens \(0 cache read, 0 cache write\)/);
    expect(run.stdout).not.toContain("TRUNCATED");
    // --branch alone is a usage error, caught before anything is sent.
    const alone = await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "x", "--branch", "b"]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain("--branch needs --push");
  });

  it("says plainly when the patch was cut at its limit", () => {
    const task = Task.parse({ ...EXAMPLE_TASK, result: { ...EXAMPLE_TASK.result, patch_truncated: true } });
    const lines = taskSummary(task);
    expect(lines).toContain("patch     TRUNCATED at 262144 bytes: the change is bigger than the result holds; the pushed commit has all of it");
    expect(lines).toContain("usage     $0.1842, 1204 in / 2311 out tokens (48120 cache read, 9876 cache write)");
    const unpushed = Task.parse({ ...EXAMPLE_TASK, push: false, branch: null, result: { ...EXAMPLE_TASK.result, patch_truncated: true, push: null, cost_usd: null, usage: null } });
    expect(taskSummary(unpushed)).toContain("patch     TRUNCATED at 262144 bytes: the change is bigger than the result holds");
    expect(taskSummary(unpushed).some((line) => line.startsWith("usage") || line.startsWith("pushed"))).toBe(false);
  });

  it("exits 10 when the task fails, and status/logs show why", async () => {
    const submitted = await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "Break [demo:exit=3]"]);
    expect(submitted.code).toBe(0);
    const taskId = submitted.stdout.trim();
    expect(taskId).toMatch(/^tsk_[0-9a-z]{26}$/);

    const watched = await codeforge(["watch", taskId]);
    expect(watched.code).toBe(10);
    expect(watched.stdout).toMatch(/status {4}failed \(cli_failed/);

    const status = await codeforge(["status", taskId, "--json"]);
    expect(status.code).toBe(10);
    expect(JSON.parse(status.stdout)).toMatchObject({ id: taskId, status: "failed", result: { exit_code: 3 } });

    const logs = await codeforge(["logs", taskId, "--json"]);
    const events = logs.stdout.trim().split("\n").map((l) => JSON.parse(l) as { seq: number; type: string; status?: string });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)).toMatchObject({ type: "status", status: "failed" });
  });

  it("cancels a running task; watching it exits 12", async () => {
    const taskId = (await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "Wait [demo:sleep=60000]"])).stdout.trim();
    const watching = codeforge(["watch", taskId]);
    await expect.poll(async () => (await stack.client.getTask(taskId)).status, { timeout: 10_000 }).toBe("running");
    const canceled = await codeforge(["cancel", taskId]);
    expect(canceled.code).toBe(0);
    expect(canceled.stdout).toContain("cancel requested");
    expect((await watching).code).toBe(12);
  });

  it("explains a refused request and exits 3", async () => {
    const badKey = await codeforge(["status", "tsk_0000000000aaaaaaaaaaaaaaaa"], { CODEFORGE_API_KEY: "cf_wrong_key_0000000000" });
    expect(badKey.code).toBe(3);
    expect(badKey.stderr).toMatch(/^codeforge: unauthorized: invalid API key \(request [\w-]+\)/);

    const badCli = await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "x", "--cli", "vim"]);
    expect(badCli.code).toBe(3);
    expect(badCli.stderr).toContain("validation_failed [cli]");
  });

  it("exits 2 on usage errors and 4 when the edge is unreachable", async () => {
    expect((await codeforge(["submit", "--prompt", "x"])).stderr).toContain("submit needs --repo");
    expect((await codeforge(["frobnicate"])).code).toBe(2);
    expect((await codeforge(["status"])).code).toBe(2);
    expect((await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "x", "--timeout", "soon"])).stderr).toContain("--timeout takes a whole number");
    const unreachable = await codeforge(["status", "tsk_0000000000aaaaaaaaaaaaaaaa"], { CODEFORGE_URL: "http://127.0.0.1:9" });
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toContain("cannot reach the edge");
  });

  it("reads the URL and key from a config file", async () => {
    const { writeFileSync } = await import("node:fs");
    const file = join(stack.stateDir, "cli-config.json");
    writeFileSync(file, JSON.stringify({ url: stack.edgeUrl, api_key: stack.adminKey }));
    const run = await codeforge(["status", "tsk_0000000000aaaaaaaaaaaaaaaa", "--config", file], { CODEFORGE_URL: "", CODEFORGE_API_KEY: "" });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("not_found");
  });
});
