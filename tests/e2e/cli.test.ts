/**
 * The `codeforge` command, run as a real process (bin/codeforge.js) against the real edge and
 * a real runner: what it prints and the exit codes scripts rely on.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
