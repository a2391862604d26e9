/**
 * `codeforge submit`, `watch`, `logs`, `status`, `cancel`, `tasks` and `deliveries`, run as a
 * real process against the real edge, a real runner and a real webhook receiver
 * (cli-harness.ts): what they print, on which stream, and the exit codes scripts rely on.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { EXAMPLE_TASK } from "#api/openapi.js";
import { Task } from "#api/task.js";
import { TaskList } from "#api/task-queries.js";
import { DeliveryList } from "#api/webhooks.js";
import { taskSummary } from "../../client/cli/output.js";
import { codeforge, codeforgeJson, eventually, newKey, receiver, stack, useCliStack } from "./cli-harness.js";

useCliStack();

describe("codeforge submit, watch, logs, status, cancel", { timeout: 90_000 }, () => {
  it("submits with --follow, streams the task live and exits 0 when it succeeds", async () => {
    const run = await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "Note the CLI test", "--follow"]);
    // Nothing on stderr but, while the task waits for the runner to connect, why it waits.
    expect(run.stderr).toMatch(/^(waiting: no runner is connected to pool default\n)?$/);
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
    expect(execFileSync("git", ["--git-dir", fileURLToPath(stack.repoUrl), "rev-parse", "refs/heads/cli/pushed"], { encoding: "utf8" }).trim()).toBe(
      pushed![1],
    );
    expect(run.stdout).toMatch(/usage {5}\$0\.0000, \d+ in \/ \d+ out tokens \(0 cache read, 0 cache write\)/);
    expect(run.stdout).not.toContain("TRUNCATED");
    // --branch alone is a usage error, caught before anything is sent.
    const alone = await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "x", "--branch", "b"]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain("--branch needs --push");
  });

  it("takes the repository token from the environment variable --access-token-env names, never from argv", async () => {
    const token = `ghp_cliToken${crypto.randomUUID().replace(/-/g, "")}`;
    const run = await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "With a token", "--access-token-env", "REPO_TOKEN", "--json"], {
      REPO_TOKEN: token,
    });
    expect(run.code, run.stderr).toBe(0);
    const task = Task.parse(JSON.parse(run.stdout));
    expect(task.has_access_token).toBe(true);
    expect(run.stdout + run.stderr).not.toContain(token);
    const unset = await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "x", "--access-token-env", "NOT_SET_ANYWHERE"]);
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain("--access-token-env NOT_SET_ANYWHERE: that environment variable is not set or is empty");
  });

  it("gives the CLI env values from the caller's environment (--env NAME), and takes --autonomy and --egress-allow", async () => {
    const key = `sk-cli-env-${crypto.randomUUID().replace(/-/g, "")}`;
    const run = await codeforge(
      [
        "submit",
        "--repo",
        stack.repoUrl,
        "--prompt",
        "With env",
        "--env",
        "DEMO_API_KEY",
        "--autonomy",
        "edits",
        "--egress-allow",
        "registry.example.org",
        "--egress-allow",
        "*.pypi.example.org",
        "--json",
      ],
      { DEMO_API_KEY: key },
    );
    expect(run.code, run.stderr).toBe(0);
    const task = Task.parse(JSON.parse(run.stdout));
    expect(task.env_names).toEqual(["DEMO_API_KEY"]);
    expect(task.autonomy).toBe("edits");
    expect(task.egress_allow).toEqual(["registry.example.org", "*.pypi.example.org"]);
    expect(run.stdout + run.stderr).not.toContain(key);
    const unset = await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "x", "--env", "NOT_SET_ANYWHERE"]);
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain("--env NOT_SET_ANYWHERE: that environment variable is not set or is empty");
    const badAutonomy = await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "x", "--autonomy", "yolo"]);
    expect(badAutonomy.code).toBe(2);
    expect(badAutonomy.stderr).toContain('--autonomy is full or edits, got "yolo"');
    const badPattern = await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "x", "--egress-allow", "http://x"]);
    expect(badPattern.code).not.toBe(0);
    expect(badPattern.stderr).toContain("egress_allow.0");
  });

  it("takes a budget (--max-cost-usd, --max-tokens, --max-turns) and refuses one that is not a positive amount", async () => {
    const run = await codeforge([
      "submit",
      "--repo",
      stack.repoUrl,
      "--prompt",
      "On a budget",
      "--max-cost-usd",
      "2.50",
      "--max-tokens",
      "200000",
      "--max-turns",
      "30",
      "--json",
    ]);
    expect(run.code, run.stderr).toBe(0);
    const task = Task.parse(JSON.parse(run.stdout));
    expect([task.max_cost_usd, task.max_tokens, task.max_turns]).toEqual([2.5, 200_000, 30]);
    for (const amount of ["0", "lots"]) {
      const bad = await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "x", "--max-cost-usd", amount]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(`--max-cost-usd takes an amount in US dollars above 0 (e.g. 2.50), got "${amount}"`);
    }
  });

  it("says plainly when the patch was cut at its limit", () => {
    const task = Task.parse({ ...EXAMPLE_TASK, result: { ...EXAMPLE_TASK.result, patch_truncated: true } });
    const lines = taskSummary(task);
    expect(lines).toContain("patch     TRUNCATED at 262144 bytes: the change is bigger than the result holds; the pushed commit has all of it");
    expect(lines).toContain("usage     $0.1842, 1204 in / 2311 out tokens (48120 cache read, 9876 cache write)");
    const unpushed = Task.parse({
      ...EXAMPLE_TASK,
      push: false,
      branch: null,
      result: { ...EXAMPLE_TASK.result, patch_truncated: true, push: null, cost_usd: null, usage: null },
    });
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
    const events = logs.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { seq: number; type: string; status?: string });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)).toMatchObject({ type: "status", status: "failed" });
  });

  it("submit --follow --json prints only JSON events, ending with the final status", async () => {
    const run = await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "Quietly", "--follow", "--json"]);
    expect(run.code).toBe(0);
    const events = run.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; status?: string });
    expect(events[0]).toMatchObject({ type: "status", status: "queued" });
    expect(events.at(-1)).toMatchObject({ type: "status", status: "succeeded" });
  });

  it("cancels a running task; watching it exits 12", async () => {
    const taskId = (await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "Wait [demo:sleep=60000]"])).stdout.trim();
    const watching = codeforge(["watch", taskId]);
    await expect.poll(async () => (await stack.client.getTask(taskId)).status, { timeout: 10_000 }).toBe("running");
    const canceled = await codeforge(["cancel", taskId]);
    expect(canceled.code, canceled.stderr).toBe(0);
    expect(canceled.stdout).toContain("cancel requested");
    expect((await watching).code).toBe(12);
  });

  it("watching a task that is not yours (or not there) says not_found and exits 3", async () => {
    const other = await newKey("watcher");
    const taskId = (await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "Mine"])).stdout.trim();
    const run = await codeforge(["watch", taskId], { CODEFORGE_API_KEY: other.key });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^codeforge: not_found: task not found \(request [\w-]+\)/);
  });
});

describe("codeforge tasks", { timeout: 90_000 }, () => {
  it("lists a key's own tasks newest first as a table, filters by status, pages with a cursor", async () => {
    const alice = await newKey("alice");
    const asAlice = { CODEFORGE_API_KEY: alice.key };
    const ok = await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "First of Alice's tasks", "--follow"], asAlice);
    expect(ok.code).toBe(0);
    const failed = await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "Second [demo:exit=3]", "--follow"], asAlice);
    expect(failed.code).toBe(10);
    const [okId, failedId] = [ok.stdout, failed.stdout].map((s) => /^submitted (tsk_\w+)/.exec(s)![1]!);

    const table = await codeforge(["tasks"], asAlice);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+CLI\s+CREATED \(UTC\)\s+REPO\s+PROMPT$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
      [failedId, "failed", "(cli_failed)"],
      [okId, "succeeded", "demo"],
    ]);
    expect(lines[2]).toContain("First of Alice's tasks");

    // The admin sees Alice's tasks too, and only hers with --owner.
    const hers = await codeforgeJson(TaskList, ["tasks", "--owner", alice.id]);
    expect(hers.tasks.map((t) => t.id)).toEqual([failedId, okId]);

    const onlyFailed = await codeforgeJson(TaskList, ["tasks", "--status", "failed"], asAlice);
    expect(onlyFailed.tasks.map((t) => [t.id, t.status, t.error_code])).toEqual([[failedId, "failed", "cli_failed"]]);

    const first = await codeforge(["tasks", "--limit", "1"], asAlice);
    const more = /^more: codeforge tasks --limit 1 --cursor (\S+)$/m.exec(first.stdout);
    expect(more, first.stdout).not.toBeNull();
    const second = await codeforgeJson(TaskList, ["tasks", "--limit", "1", "--cursor", more![1]!], asAlice);
    expect(second).toEqual({ tasks: [expect.objectContaining({ id: okId })], next_cursor: null });
    expect((await codeforgeJson(TaskList, ["tasks", "--all"], asAlice)).tasks).toHaveLength(2);
  });

  it("says so when there are none, and refuses a bad status or another key's owner", async () => {
    const bob = await newKey("bob");
    const none = await codeforge(["tasks", "--status", "running"], { CODEFORGE_API_KEY: bob.key });
    expect(none).toMatchObject({ code: 0, stdout: "no tasks with status running\n" });
    const badStatus = await codeforge(["tasks", "--status", "done"]);
    expect(badStatus.code).toBe(2);
    expect(badStatus.stderr).toContain("--status must be one of queued, leased, running, succeeded, failed, timed_out, canceled");
    const theirs = await codeforge(["tasks", "--owner", "key_0000000000000000"], { CODEFORGE_API_KEY: bob.key });
    expect(theirs.code).toBe(5);
    expect(theirs.stderr).toMatch(/^codeforge: forbidden \[owner\]: only an admin key may list another key's tasks/);
  });
});

describe("codeforge deliveries", { timeout: 90_000 }, () => {
  it("shows a task's webhook deliveries and redelivers one", async () => {
    receiver.script("cli", { default: { status: 200 } });
    const run = await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "Hook me", "--callback-url", `${receiver.url}/hook/cli`, "--follow"]);
    expect(run.code).toBe(0);
    const taskId = /^submitted (tsk_\w+)/.exec(run.stdout)![1]!;
    const [delivered] = (
      await eventually(
        () => codeforgeJson(DeliveryList, ["deliveries", taskId]),
        (l) => l.deliveries[0]?.status === "delivered",
      )
    ).deliveries;

    const table = await codeforge(["deliveries", taskId]);
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+EVENT\s+STATUS\s+ATTEMPTS\s+LAST\s+NEXT \(UTC\)\s+URL$/);
    expect(table.stdout).toMatch(
      new RegExp(`^${delivered!.id}\\s+task\\.succeeded\\s+delivered\\s+1\\s+HTTP 200, \\d+ ms\\s+-\\s+${receiver.url}/hook/cli$`, "m"),
    );

    const again = await codeforge(["deliveries", "redeliver", taskId, delivered!.id]);
    expect(again).toMatchObject({ code: 0, stdout: `${delivered!.id} queued for redelivery to ${receiver.url}/hook/cli (attempt series 2)\n` });
    const requests = await eventually(
      () => receiver.requests("cli"),
      (r) => r.length === 2,
    );
    expect(requests.map((r) => r.headers["webhook-id"])).toEqual([delivered!.id, delivered!.id]);
    const replayed = await eventually(
      () => codeforgeJson(DeliveryList, ["deliveries", taskId]),
      (l) => l.deliveries[0]?.status === "delivered" && l.deliveries[0].attempts.length === 2,
    );
    expect(replayed.deliveries[0]!.attempts.map((a) => [a.series, a.status])).toEqual([
      [1, 200],
      [2, 200],
    ]);

    const none = await codeforge(["deliveries", "redeliver", taskId, "msg_0000000000aaaaaaaaaaaaaaaa"]);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/^codeforge: not_found: delivery not found/);
    expect((await codeforge(["deliveries"])).stderr).toContain("deliveries needs <task-id>");
  });
});
