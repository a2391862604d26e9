/**
 * The `codeforge` command, run as a real process (bin/codeforge.js) against the real edge
 * (`wrangler dev`), a real runner and a real webhook receiver: what it prints, on which
 * stream, and the exit codes scripts rely on. Keys, tasks and deliveries are made through the
 * command itself wherever it can make them.
 */
import { execFile, execFileSync } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiKeyList, ApiKeyWithSecret } from "#api/keys.js";
import { EXAMPLE_TASK } from "#api/openapi.js";
import { RunnerList } from "#api/runner-protocol.js";
import { Task } from "#api/task.js";
import { TaskList } from "#api/task-queries.js";
import { DeliveryList } from "#api/webhooks.js";
import { taskSummary } from "../../client/cli/output.js";
import { PROJECT_ROOT } from "../../scripts/local-stack.js";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";
import { startStack, type Stack } from "./local-stack.js";

let stack: Stack;
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  stack = await startStack({ vars: { WEBHOOKS_ALLOW_LOCAL: "true" } });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `codeforge` with the admin key and the edge's URL in the environment, unless `env` overrides them. */
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

/** Runs `codeforge … --json` and parses what it printed; fails unless it exited 0. */
async function codeforgeJson<T>(schema: { parse(v: unknown): T }, args: string[], env: Record<string, string> = {}): Promise<T> {
  const run = await codeforge([...args, "--json"], env);
  expect(run.code, run.stderr).toBe(0);
  return schema.parse(JSON.parse(run.stdout));
}

/** A new non-admin key, made with `codeforge keys create`. */
async function newKey(name: string, extra: string[] = []): Promise<{ id: string; key: string }> {
  return codeforgeJson(ApiKeyWithSecret, ["keys", "create", "--name", name, ...extra]);
}

async function eventually<T>(read: () => Promise<T> | T, done: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`not met within ${timeoutMs} ms: ${JSON.stringify(value).slice(0, 1_000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("codeforge submit, watch, logs, status, cancel", { timeout: 90_000 }, () => {
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

describe("codeforge keys", { timeout: 90_000 }, () => {
  it("creates a key with scopes, limits, expiry and CIDRs, printing its secret once; lists and shows it", async () => {
    const run = await codeforge([
      "keys",
      "create",
      "--name",
      "ci runner",
      "--scope",
      "tasks:read",
      "--expires-in",
      "30d",
      "--cidr",
      "127.0.0.0/8",
      "--cidr",
      "::1/128",
      "--max-concurrent",
      "2",
      "--tasks-per-minute",
      "30",
    ]);
    expect(run.code, run.stderr).toBe(0);
    const [, id, secret] = /^created (key_\w+) "ci runner" \(tasks:read\)\nkey: (cf_key_\w+)\n$/.exec(run.stdout) ?? [];
    expect(secret, run.stdout).toMatch(/^cf_key_/);
    expect(run.stderr).toBe("Store the key now: it is not shown again.\n");

    const list = await codeforge(["keys"]);
    expect(list.stdout.split("\n")[0]).toMatch(/^ID\s+NAME\s+SCOPES\s+STATUS\s+CREATED \(UTC\)\s+EXPIRES \(UTC\)\s+CIDRS$/);
    const row = list.stdout.split("\n").find((l) => l.startsWith(id!));
    expect(row).toMatch(/ci runner\s+tasks:read\s+active\s+.*127\.0\.0\.0\/8,::1\/128$/);
    expect(list.stdout).not.toContain(secret);
    const listed = await codeforgeJson(ApiKeyList, ["keys", "list", "--all"]);
    expect(listed.keys.find((k) => k.id === id)).toMatchObject({ scopes: ["tasks:read"], limits: { max_concurrent_tasks: 2, tasks_per_minute: 30 } });

    const shown = await codeforge(["keys", "show", id!]);
    expect(shown.stdout).toMatch(/^scopes {6}tasks:read$/m);
    expect(shown.stdout).toMatch(/^limits {6}tasks_per_minute=30, max_concurrent_tasks=2$/m);
    expect(shown.stdout).toMatch(/^addresses {3}127\.0\.0\.0\/8, ::1\/128$/m);

    // The local stack trusts no client address (CLIENT_ADDRESS_HEADER=none, as under npm start),
    // so a key bound to addresses is refused, saying why, rather than trusting a header anyone can send.
    const bound = await codeforge(["tasks"], { CODEFORGE_API_KEY: secret! });
    expect(bound.code).toBe(5);
    expect(bound.stderr).toMatch(/^codeforge: forbidden: this API key may only be used from its allowed_cidrs, and the edge has no trustworthy client address/);
    expect(bound.stderr).not.toContain(secret!);

    // A key without addresses works for what its scope allows, and not for more.
    const reader = await newKey("reader", ["--scope", "tasks:read"]);
    expect((await codeforge(["tasks"], { CODEFORGE_API_KEY: reader.key })).code).toBe(0);
    const write = await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "x"], { CODEFORGE_API_KEY: reader.key });
    expect(write.code).toBe(5);
    expect(write.stderr).toMatch(/^codeforge: forbidden: this API key lacks the 'tasks:write' scope/);
    expect(write.stderr).toContain("hint: use a key with the scope this needs");
  });

  it("rotates (the old secret stops after the overlap) and revokes; a non-admin key cannot manage keys", async () => {
    const made = await newKey("rotating");
    const rotated = await codeforge(["keys", "rotate", made.id, "--overlap", "0"]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const fresh = /^key: (cf_key_\w+)$/m.exec(rotated.stdout)![1]!;
    expect(fresh).not.toBe(made.key);
    expect(rotated.stdout).toContain("the previous secret no longer works");
    expect(rotated.stderr).toContain("Store the key now");

    const old = await codeforge(["tasks"], { CODEFORGE_API_KEY: made.key });
    expect(old.code).toBe(5);
    expect(old.stderr).toMatch(/^codeforge: unauthorized: /);
    expect(old.stderr).toContain("hint: the key came from CODEFORGE_API_KEY");
    expect(old.stderr).not.toContain(made.key);
    expect((await codeforge(["tasks"], { CODEFORGE_API_KEY: fresh })).code).toBe(0);

    const revoked = await codeforge(["keys", "revoke", made.id]);
    expect(revoked).toMatchObject({ code: 0, stdout: `${made.id} revoked; it is refused everywhere within seconds\n` });
    expect((await codeforge(["tasks"], { CODEFORGE_API_KEY: fresh })).code).toBe(5);

    const notAdmin = await codeforge(["keys"], { CODEFORGE_API_KEY: (await newKey("plain")).key });
    expect(notAdmin.code).toBe(5);
    expect(notAdmin.stderr).toContain("forbidden: this API key lacks the 'admin' scope");
  });

  it("refuses bad key input before or at the API, naming it", async () => {
    expect((await codeforge(["keys", "create"])).stderr).toContain("keys create needs --name");
    expect((await codeforge(["keys", "create", "--name", "x", "--scope", "root"])).stderr).toContain("--scope must be one of tasks:read, tasks:write, admin");
    expect((await codeforge(["keys", "create", "--name", "x", "--expires-in", "soon"])).code).toBe(2);
    const cidr = await codeforge(["keys", "create", "--name", "x", "--cidr", "10.0.0.0/99"]);
    expect(cidr.code).toBe(3);
    expect(cidr.stderr).toMatch(/^codeforge: validation_failed \[allowed_cidrs\.0\]: /);
    expect((await codeforge(["keys", "frob"])).code).toBe(2);
    const missing = await codeforge(["keys", "revoke", "key_0000000000000000"]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^codeforge: not_found: key not found/);
  });
});

describe("codeforge runners and deliveries", { timeout: 90_000 }, () => {
  it("lists the runners with their pool, CLIs and load", async () => {
    const table = await codeforge(["runners"]);
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+POOL\s+BUSY\s+CLIS\s+LABELS\s+VERSION\s+LAST SEEN \(UTC\)$/);
    expect(table.stdout).toMatch(/^e2e-runner-1\s+default\s+\d\/2\s+\S*demo\S*\s/m);
    const list = await codeforgeJson(RunnerList, ["runners"]);
    expect(list.runners).toEqual([expect.objectContaining({ id: "e2e-runner-1", pool: "default", capacity: 2 })]);
    const notAdmin = await codeforge(["runners"], { CODEFORGE_API_KEY: (await newKey("nosy")).key });
    expect(notAdmin.code).toBe(5);
    expect(notAdmin.stderr).toContain("forbidden: listing runners needs an admin key");
  });

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
    expect(table.stdout).toMatch(new RegExp(`^${delivered!.id}\\s+task\\.succeeded\\s+delivered\\s+1\\s+HTTP 200\\s+-\\s+${receiver.url}/hook/cli$`, "m"));

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

describe("codeforge connection settings and errors", { timeout: 90_000 }, () => {
  it("reads the URL and key from a private config file; flags beat the environment, which beats the file", async () => {
    const file = join(stack.stateDir, "cli-config.json");
    writeFileSync(file, JSON.stringify({ url: stack.edgeUrl, api_key: stack.adminKey }), { mode: 0o600 });
    const fromFile = await codeforge(["tasks", "--json", "--config", file], { CODEFORGE_URL: "", CODEFORGE_API_KEY: "" });
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(TaskList.parse(JSON.parse(fromFile.stdout)).tasks.length).toBeGreaterThan(0);
    // The default place, found through HOME.
    const home = join(stack.stateDir, "home");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(home, ".config", "codeforge"), { recursive: true });
    writeFileSync(join(home, ".config", "codeforge", "config.json"), JSON.stringify({ url: stack.edgeUrl, api_key: stack.adminKey }), { mode: 0o600 });
    expect((await codeforge(["runners"], { HOME: home, CODEFORGE_URL: "", CODEFORGE_API_KEY: "" })).code).toBe(0);

    // The environment's key beats the file's; a flag beats the environment.
    writeFileSync(file, JSON.stringify({ url: stack.edgeUrl, api_key: "cf_wrong_key_from_the_file_000" }), { mode: 0o600 });
    expect((await codeforge(["tasks", "--config", file])).code).toBe(0);
    const flagged = await codeforge(["tasks", "--config", file, "--url", "http://127.0.0.1:9"]);
    expect(flagged.code).toBe(4);
    expect(flagged.stderr).toContain("The URL came from --url");
    const wrong = await codeforge(["tasks"], { CODEFORGE_CONFIG: file, CODEFORGE_API_KEY: "" });
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toContain(`hint: the key came from ${file}`);
  });

  it("refuses a config file holding a key that other users can read, and one that is not valid", async () => {
    const file = join(stack.stateDir, "open-config.json");
    writeFileSync(file, JSON.stringify({ url: stack.edgeUrl, api_key: stack.adminKey }));
    chmodSync(file, 0o644);
    const open = await codeforge(["tasks", "--config", file]);
    expect(open.code).toBe(2);
    expect(open.stderr).toContain(`${file} holds an API key but other users can access it (mode 0644); run: chmod 600 ${file}`);
    expect(open.stderr).not.toContain(stack.adminKey);
    // Without a key in it, the file may be readable: the URL is no secret.
    writeFileSync(file, JSON.stringify({ url: stack.edgeUrl }));
    expect((await codeforge(["tasks", "--config", file])).code).toBe(0);
    writeFileSync(file, JSON.stringify({ url: stack.edgeUrl, token: "x" }));
    expect((await codeforge(["tasks", "--config", file])).stderr).toContain('expected {"url": "...", "api_key": "..."}');
    expect((await codeforge(["tasks", "--config", join(stack.stateDir, "nope.json")])).stderr).toContain("cannot read the config file");
  });

  it("explains a missing or refused key, a wrong URL and a rate limit, each with its exit code", async () => {
    const noKey = await codeforge(["tasks"], { CODEFORGE_API_KEY: "" });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('no API key: pass --key, set CODEFORGE_API_KEY, or put "api_key" in');

    const badKey = await codeforge(["status", "tsk_0000000000aaaaaaaaaaaaaaaa"], { CODEFORGE_API_KEY: "cf_wrong_key_0000000000" });
    expect(badKey.code).toBe(5);
    expect(badKey.stderr).toMatch(/^codeforge: unauthorized: invalid API key \(request [\w-]+\)/);
    expect(badKey.stderr).not.toContain("cf_wrong_key_0000000000");

    const withPath = await codeforge(["tasks"], { CODEFORGE_URL: `${stack.edgeUrl}/api/v1` });
    expect(withPath.code).toBe(3);
    expect(withPath.stderr).toContain("not_found: no route for GET /api/v1/api/v1/tasks");
    expect(withPath.stderr).toContain("the edge's base URL, without a path?");

    const notTheEdge = await codeforge(["tasks"], { CODEFORGE_URL: receiver.url });
    expect(notTheEdge.code).toBe(4);
    expect(notTheEdge.stderr).toContain(`${receiver.url} answered GET /api/v1/tasks with HTTP 404 (no content type), not the CodeForge API`);

    const unreachable = await codeforge(["status", "tsk_0000000000aaaaaaaaaaaaaaaa"], { CODEFORGE_URL: "http://127.0.0.1:1" });
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toContain("cannot reach the edge at http://127.0.0.1:1");
    expect((await codeforge(["tasks"], { CODEFORGE_URL: "ftp://127.0.0.1" })).stderr).toContain("is not an http(s) URL");

    // A key limited to 1 request a minute: the second is refused with Retry-After.
    const slow = await newKey("slow", ["--requests-per-minute", "1"]);
    expect((await codeforge(["tasks"], { CODEFORGE_API_KEY: slow.key })).code).toBe(0);
    const limited = await codeforge(["tasks"], { CODEFORGE_API_KEY: slow.key });
    expect(limited.code).toBe(6);
    expect(limited.stderr).toMatch(/^codeforge: rate_limited: /);
    expect(limited.stderr).toMatch(/hint: rate limited; try again in \d+ s \(Retry-After\)/);
    // With --json, the error is one JSON line on stderr.
    const limitedJson = await codeforge(["tasks", "--json"], { CODEFORGE_API_KEY: slow.key });
    expect(limitedJson.code).toBe(6);
    expect(JSON.parse(limitedJson.stderr)).toEqual({
      error: {
        code: "rate_limited",
        message: expect.any(String),
        request_id: expect.any(String),
        field: null,
        status: 429,
        retry_after_seconds: expect.any(Number),
        hint: expect.stringContaining("try again"),
        exit_code: 6,
      },
    });
  });

  it("exits 2 on usage errors, and documents the exit codes in --help", async () => {
    const [noRepo, unknown, noId, badFlag, badTimeout, help] = await Promise.all([
      codeforge(["submit", "--prompt", "x"]),
      codeforge(["frobnicate"]),
      codeforge(["status"]),
      codeforge(["tasks", "--frob"]),
      codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "x", "--timeout", "soon"]),
      codeforge(["--help"], { CODEFORGE_API_KEY: "" }),
    ]);
    for (const run of [noRepo, unknown, noId, badFlag, badTimeout]) expect(run.code).toBe(2);
    expect(noRepo.stderr).toContain("submit needs --repo");
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    expect(noId.stderr).toContain("status needs <task-id>");
    expect(badFlag.stderr).toContain("Unknown option '--frob'");
    expect(badTimeout.stderr).toContain("--timeout takes a whole number");
    expect(help.code).toBe(0);
    for (const command of ["submit", "watch", "logs", "status", "cancel", "tasks", "keys create", "runners", "deliveries redeliver"])
      expect(help.stdout).toContain(`codeforge ${command}`);
    expect(help.stdout).toMatch(/^ {2}5 {3}the API key was refused \(401\)/m);
    expect(help.stdout).toMatch(/^ {2}6 {3}rate limited \(429\)/m);
  });
});
