/**
 * `codeforge status`/`watch` on a task no runner can take (its waiting reason, as plain lines
 * when piped), `diff` (a patch `git apply --check` accepts, an earlier iteration's, and what
 * it says when there is none), `logs --raw` and `--timestamps`, and `submit` from inside a
 * clone without --repo: the real binary against the real edge and runner (cli-harness.ts).
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { RunnerList } from "#api/runner-protocol.js";
import { Task } from "#api/task.js";
import { CliName } from "#api/task-request.js";
import { PROJECT_ROOT } from "../../scripts/local-stack.js";
import { codeforge, codeforgeJson, eventually, stack, useCliStack } from "./cli-harness.js";

useCliStack();

const scratch = mkdtempSync(join(tmpdir(), "codeforge-cli-progress-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A clone of the stack's repository, made from its path (so its origin is a path, not a URL). */
function cloneStackRepo(name: string): string {
  const dir = join(scratch, name);
  execFileSync("git", ["clone", "--quiet", fileURLToPath(stack.repoUrl), dir]);
  return dir;
}

/** A CLI the stack's runner does not offer, once the runner has connected (else the reason is that none has). */
async function unservedCli(): Promise<CliName> {
  const runners = await eventually(
    () => codeforgeJson(RunnerList, ["runners"]),
    (list) => list.runners.length > 0,
  );
  const offered = new Set(runners.runners.flatMap((r) => r.clis));
  return CliName.options.find((cli) => !offered.has(cli))!;
}

/** Submits a demo task and follows it to its end; returns its id. */
async function finishedTask(prompt: string): Promise<string> {
  const run = await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", prompt, "--follow"]);
  expect(run.code, run.stderr).toBe(0);
  return /^submitted (tsk_\w+)/.exec(run.stdout)![1]!;
}

describe("codeforge while a task waits in the queue", { timeout: 90_000 }, () => {
  it("status and watch say why no runner takes it; piped, watch prints the reason once, as a plain line", async () => {
    const unserved = await unservedCli();
    const reason = `no runner in pool default offers cli ${unserved}`;
    const submitted = await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "Nobody runs this", "--cli", unserved]);
    expect(submitted.code, submitted.stderr).toBe(0);
    const id = submitted.stdout.trim();

    const status = await codeforge(["status", id]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^status {4}queued$/m);
    expect(status.stdout).toContain(`waiting   ${reason}\n`);

    const noDiff = await codeforge(["diff", id]);
    expect(noDiff.code).toBe(7);
    expect(noDiff.stdout).toBe("");
    expect(noDiff.stderr).toContain(`${id} has no result yet: it is queued (codeforge watch ${id} follows it)`);

    // watch reads the task every 2 s while it is queued: over 5 s the unchanged reason is printed once.
    const watching = codeforge(["watch", id]);
    await new Promise((r) => setTimeout(r, 5_000));
    expect((await codeforge(["cancel", id])).code).toBe(0);
    const watched = await watching;
    expect(watched.code).toBe(12);
    expect(watched.stderr).toBe(`waiting: ${reason}\n`);
    expect(watched.stdout).toContain("● queued");
    expect(watched.stdout).toContain("● canceled");
    expect(watched.stdout + watched.stderr).not.toMatch(/[\r⠋⠙⠹]/);
  });

  it.skipIf(!hasScript)("on a terminal, watch shows a spinner line with the time queued and the reason, redrawn in place", async () => {
    const unserved = await unservedCli();
    const submitted = await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "Nobody runs this either", "--cli", unserved]);
    const id = submitted.stdout.trim();
    const watching = onTerminal(["watch", id]);
    await new Promise((r) => setTimeout(r, 3_500));
    expect((await codeforge(["cancel", id])).code).toBe(0);
    const { code, screen } = await watching;
    expect(code).toBe(12);
    const reason = `no runner in pool default offers cli ${unserved}`;
    // Redrawn in place: carriage return and erase-line before each frame, the seconds counting up.
    expect(screen).toMatch(new RegExp(`\\r\\x1b\\[2K[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] queued [0-3]s — ${reason}`));
    expect(screen).toMatch(new RegExp(`\\r\\x1b\\[2K[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] queued [2-9]s — ${reason}`));
    expect(screen).not.toContain(`waiting: ${reason}`); // the plain line is for pipes
    // Cleared before the event line: the canceled status starts on a clean line.
    expect(screen).toMatch(/\r\x1b\[2K(\x1b\[[0-9;]*m)*● canceled/);
  });
});

/** Runs `codeforge` on a terminal (`script` gives it a pseudo-terminal); resolves with all it wrote there. */
function onTerminal(args: string[]): Promise<{ code: number; screen: string }> {
  const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  const command = [process.execPath, join(PROJECT_ROOT, "bin", "codeforge.js"), ...args].map(quote).join(" ");
  return new Promise((resolve) => {
    execFile(
      "script",
      ["-qfec", command, "/dev/null"],
      {
        cwd: stack.stateDir,
        env: { PATH: process.env.PATH, HOME: stack.stateDir, TERM: "xterm", CODEFORGE_URL: stack.edgeUrl, CODEFORGE_API_KEY: stack.adminKey },
        timeout: 60_000,
      },
      (error, stdout) => resolve({ code: error ? Number(error.code ?? 1) : 0, screen: stdout }),
    );
  });
}

const hasScript = (() => {
  try {
    execFileSync("script", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe("codeforge diff, logs --raw and --timestamps", { timeout: 120_000 }, () => {
  it("diff prints the patch, which git apply --check accepts in a clone; --iteration shows an earlier one", async () => {
    const id = await finishedTask("Note the diff test");
    const run = await codeforge(["diff", id]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(/^diff --git a\/CODEFORGE_NOTES\.md b\/CODEFORGE_NOTES\.md$/m);
    expect(run.stdout).not.toContain("\x1b["); // piped: no colour
    const clone = cloneStackRepo("apply");
    execFileSync("git", ["apply", "--check"], { cwd: clone, input: run.stdout });

    const next = await codeforge(["followup", id, "--prompt", "Note it again", "--follow", "--timestamps"]);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout).toMatch(/^\d\d:\d\d:\d\d ● iteration 2: Note it again$/m);
    const [first, latest, json] = await Promise.all([
      codeforge(["diff", id, "--iteration", "1"]),
      codeforge(["diff", id]),
      codeforge(["diff", id, "--iteration", "1", "--json"]),
    ]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe(run.stdout);
    expect(latest.stdout).not.toBe(run.stdout);
    expect(JSON.parse(json.stdout)).toMatchObject({ task_id: id, iteration: 1, patch: run.stdout, patch_truncated: false });
    const beyond = await codeforge(["diff", id, "--iteration", "3"]);
    expect(beyond.code).toBe(2);
    expect(beyond.stderr).toContain(`--iteration 3: ${id} has iterations 1 to 2`);
  });

  it("logs --raw prints what the CLI wrote (its stream-json lines), logs --timestamps prefixes the rendered lines with their time", async () => {
    const id = await finishedTask("Note the raw test [demo:stderr=a raw warning]");
    const [raw, rendered, stamped] = await Promise.all([codeforge(["logs", id, "--raw"]), codeforge(["logs", id]), codeforge(["logs", id, "--timestamps"])]);
    expect(raw.code, raw.stderr).toBe(0);
    const lines = raw.stdout.split("\n").filter(Boolean);
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(raw.stdout).toContain('"type":"result"');
    expect(raw.stdout).not.toContain("● running");
    expect(raw.stderr).toBe("a raw warning\n"); // the CLI's stderr, to stderr, as it was
    expect(raw.stdout).not.toContain("a raw warning");
    expect(rendered.stdout).toContain("● running");
    expect(rendered.stdout).not.toContain('{"type"');
    const stampedLines = stamped.stdout.split("\n").filter(Boolean);
    expect(stampedLines.length).toBe(rendered.stdout.split("\n").filter(Boolean).length);
    for (const line of stampedLines) expect(line).toMatch(/^\d\d:\d\d:\d\d /);
    const both = await codeforge(["logs", id, "--raw", "--json"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("give --raw or --json, not both");
  });

  it("submit --follow --timestamps prefixes each event line with its time", async () => {
    const run = await codeforge(["submit", "--repo", stack.repoUrl, "--prompt", "Stamped", "--follow", "--timestamps"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^\d\d:\d\d:\d\d ● running/m);
    expect(run.stdout).toMatch(/^\d\d:\d\d:\d\d ● succeeded/m);
    expect(run.stdout).toMatch(/^status {4}succeeded$/m); // the summary is not an event: no time
  });
});

describe("codeforge submit inside a clone", { timeout: 90_000 }, () => {
  it("without --repo takes the clone's origin (a path, sent as file://) and its branch, and says so on stderr", async () => {
    const clone = cloneStackRepo("submit-here");
    execFileSync("git", ["checkout", "--quiet", "-b", "topic"], { cwd: clone });
    execFileSync("git", ["push", "--quiet", "origin", "topic"], { cwd: clone });
    const run = await codeforge(["submit", "--prompt", "From the checkout"], {}, { cwd: clone });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe(`repository ${stack.repoUrl} @ topic (from this checkout's origin and branch)\n`);
    const task = await codeforgeJson(Task, ["status", run.stdout.trim()]);
    expect(task.repo).toEqual({ url: stack.repoUrl, ref: "topic" });
    // --ref still wins; outside a checkout, --repo is asked for.
    const withRef = await codeforge(["submit", "--prompt", "x", "--ref", "main", "--json"], {}, { cwd: clone });
    expect(Task.parse(JSON.parse(withRef.stdout)).repo.ref).toBe("main");
    const outside = await codeforge(["submit", "--prompt", "x"]);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain("submit needs --repo <url>");
  });
});
