// Integration: committing a CLI's change and pushing it to a real bare repository, with real
// git behind the recording stand-in (tests/runner/fixtures/git-recorder/git), so each test sees
// every git process started, its argv, environment and working directory. The "CLI" is a real
// child process (tests/runner/fixtures/script/change-repo) run in the checkout.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkBranchName } from "#api/index.js";
import { commitMessage, commitSubject } from "../../runner/src/git/commit-message.js";
import { cloneRepository } from "../../runner/src/git/git-clone.js";
import { TOKEN_ENV_NAME } from "../../runner/src/git/git-credentials.js";
import { commitAndPush, describePushFailure, PushError, type PushOptions } from "../../runner/src/git/git-push.js";
import { createGitFixture, git, type GitFixture } from "./harness/git-fixture.js";

const RECORDER_DIR = fileURLToPath(new URL("./fixtures/git-recorder", import.meta.url));
const CHANGE_REPO = fileURLToPath(new URL("./fixtures/script/change-repo", import.meta.url));
const PATH_ENV = `${RECORDER_DIR}:${process.env.PATH ?? "/usr/bin:/bin"}`;
const TOKEN = "ghs_PushToken_fedcba9876543210";
const IDENTITY = { name: "CodeForge Bot", email: "bot@codeforge.test" };

let fixture: GitFixture;
let scratch: string;
let n = 0;
beforeAll(() => {
  fixture = createGitFixture();
  scratch = mkdtempSync(path.join(os.tmpdir(), "codeforge-push-"));
});
afterAll(() => {
  fixture.remove();
  rmSync(scratch, { recursive: true, force: true });
});

/** A workspace like the runner's: a clone of `main`, a home, a runner-owned directory. */
async function workspace(ref = "main") {
  const base = path.join(scratch, `w${++n}`);
  const homeDir = path.join(base, "home");
  const runnerDir = path.join(base, "runner");
  mkdirSync(homeDir, { recursive: true });
  mkdirSync(runnerDir);
  const repoDir = path.join(base, "repo");
  const { baseSha } = await cloneRepository({ url: fixture.url, ref, dir: repoDir, homeDir, pathEnv: PATH_ENV, allowFile: true, allowSsh: false });
  return {
    base,
    repoDir,
    runnerDir,
    baseSha,
    /** Runs the stand-in CLI in the checkout with `prompt` on stdin. */
    cli(prompt: string) {
      execFileSync(CHANGE_REPO, [], {
        cwd: repoDir,
        input: prompt,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: homeDir, GIT_CONFIG_NOSYSTEM: "1" },
      });
    },
    options(overrides: Partial<PushOptions> = {}): PushOptions {
      return {
        repoDir,
        baseSha,
        url: fixture.url,
        branch: `codeforge/test-${n}`,
        message: commitMessage({ prompt: "Add the change file\nwith more words", taskId: "tsk_test", cli: "script", model: null }),
        identity: IDENTITY,
        pathEnv: PATH_ENV,
        runnerDir,
        accessToken: TOKEN,
        allowFile: true,
        allowSsh: false,
        ...overrides,
      };
    },
    /** Git processes the push started (logged under its runner-owned home). */
    calls(): { argv: string[]; env: Record<string, string>; cwd: string }[] {
      const log = path.join(runnerDir, "push-home", "git-calls.jsonl");
      if (!existsSync(log)) return [];
      return readFileSync(log, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
    },
  };
}

const bare = () => fileURLToPath(fixture.url);
const remoteSha = (branch: string) => {
  try {
    return git(bare(), "rev-parse", "--verify", "--quiet", `refs/heads/${branch}`);
  } catch {
    return null;
  }
};

describe("commit and push", () => {
  it("pushes one commit with the CLI's change, on the base, by the configured identity, to the branch asked for", async () => {
    const ws = await workspace();
    ws.cli("Add the change file");
    const pushed = await commitAndPush(ws.options({ branch: "topic/my-change" }));

    expect(pushed).not.toBeNull();
    expect(pushed!.branch).toBe("topic/my-change");
    expect(pushed!.commit_sha).toMatch(/^[0-9a-f]{40}$/);
    expect(remoteSha("topic/my-change")).toBe(pushed!.commit_sha);
    // The commit in the remote holds the change, on top of the commit that was checked out.
    expect(git(bare(), "show", `${pushed!.commit_sha}:CHANGE.md`)).toBe("Add the change file");
    expect(git(bare(), "rev-parse", `${pushed!.commit_sha}^`)).toBe(fixture.mainSha);
    expect(git(bare(), "log", "-1", "--format=%an <%ae>|%cn <%ce>", pushed!.commit_sha)).toBe(
      "CodeForge Bot <bot@codeforge.test>|CodeForge Bot <bot@codeforge.test>",
    );
    expect(git(bare(), "log", "-1", "--format=%B", pushed!.commit_sha)).toBe(
      "Add the change file\n\nTask tsk_test, run by CodeForge with script.\n\nCodeForge-Task: tsk_test",
    );
    // main is untouched.
    expect(remoteSha("main")).toBe(fixture.mainSha);
  });

  it("keeps the token out of every argv and every .git/config; only the push process has it, and it runs outside the checkout", async () => {
    const ws = await workspace();
    ws.cli("Change for the token test");
    await commitAndPush(ws.options());
    const calls = ws.calls();
    const pushCalls = calls.filter((call) => call.argv.includes("push"));
    expect(pushCalls).toHaveLength(1);
    for (const call of calls) {
      expect(call.argv.join(" ")).not.toContain(TOKEN);
      const holdsToken = call.env[TOKEN_ENV_NAME] === TOKEN;
      expect(holdsToken).toBe(call.argv.includes("push"));
      if (holdsToken) {
        expect(call.cwd).toBe(path.join(ws.runnerDir, "push.git"));
        expect(call.env.GIT_ASKPASS).toBe(path.join(ws.runnerDir, "git-askpass.sh"));
        expect(call.env.GIT_CONFIG_GLOBAL).toBe("/dev/null");
        expect(call.argv).toContain("protocol.allow=never");
        expect(call.argv).toContain("http.followRedirects=false");
        expect(call.argv).not.toContain("--force");
        expect(call.argv.some((arg) => arg.startsWith("+"))).toBe(false);
      }
    }
    for (const config of [path.join(ws.repoDir, ".git", "config"), path.join(ws.runnerDir, "push.git", "config")]) {
      expect(readFileSync(config, "utf8")).not.toContain(TOKEN);
    }
    expect(readFileSync(path.join(ws.runnerDir, "git-askpass.sh"), "utf8")).not.toContain(TOKEN);
  });

  it("folds the CLI's own commits into one commit on the base, with the uncommitted edits too", async () => {
    const ws = await workspace();
    ws.cli("Commit it yourself [commit]");
    const pushed = await commitAndPush(ws.options());
    expect(git(bare(), "rev-parse", `${pushed!.commit_sha}^`)).toBe(fixture.mainSha);
    expect(git(bare(), "show", `${pushed!.commit_sha}:CHANGE.md`)).toBe("Commit it yourself [commit]");
    expect(git(bare(), "show", `${pushed!.commit_sha}:README.md`)).toContain("edited after the CLI's commit");
    expect(git(bare(), "log", "-1", "--format=%an", pushed!.commit_sha)).toBe("CodeForge Bot");
  });

  it("pushes nothing when the CLI changed nothing", async () => {
    const ws = await workspace();
    ws.cli("[nochange]");
    expect(await commitAndPush(ws.options({ branch: "never-made" }))).toBeNull();
    expect(remoteSha("never-made")).toBeNull();
    expect(ws.calls().some((call) => call.argv.includes("push"))).toBe(false);
  });

  it("ignores what the CLI wrote into .git/config and .git/hooks: the push goes to the task's URL and runs no hook or helper", async () => {
    const ws = await workspace();
    ws.cli("Hostile [hostile-config]");
    const pushed = await commitAndPush(ws.options({ branch: "hostile" }));
    expect(remoteSha("hostile")).toBe(pushed!.commit_sha);
    for (const marker of ["credential-helper", "pre-push", "pre-commit"]) {
      expect(existsSync(path.join(ws.base, `hostile-ran-${marker}`))).toBe(false);
    }
  });

  it("never force-pushes: a diverged remote branch fails the push with a clear message and stays as it was", async () => {
    // Someone else's branch, not based on what the task checked out.
    const other = path.join(scratch, `other${++n}`);
    git(scratch, "clone", "--quiet", bare(), other);
    writeFileSync(path.join(other, "THEIRS.md"), "theirs\n");
    git(other, "add", "-A");
    git(other, "commit", "--quiet", "-m", "theirs");
    git(other, "push", "--quiet", "origin", "HEAD:refs/heads/taken");
    const theirs = remoteSha("taken");

    const ws = await workspace();
    ws.cli("Would overwrite");
    const err = await commitAndPush(ws.options({ branch: "taken" })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PushError);
    expect((err as Error).message).toMatch(/branch 'taken' already exists on the remote .* never force-pushes/);
    expect((err as Error).message).not.toContain(TOKEN);
    expect(remoteSha("taken")).toBe(theirs);
  });

  it("fast-forwards a remote branch that the change builds on", async () => {
    const ws = await workspace("feature");
    ws.cli("Extend the feature");
    const pushed = await commitAndPush(ws.options({ branch: "feature" }));
    expect(remoteSha("feature")).toBe(pushed!.commit_sha);
    expect(git(bare(), "rev-parse", `${pushed!.commit_sha}^`)).toBe(fixture.featureSha);
    // Put it back for the other tests.
    git(bare(), "update-ref", "refs/heads/feature", fixture.featureSha);
  });

  it("refuses bad branch names before any git process starts (defence in depth)", async () => {
    const ws = await workspace();
    ws.cli("Never pushed");
    for (const branch of ["--force", "-f", "a..b", "HEAD", "x.lock", "has space", "semi;colon", "ends/", "a//b", ".hidden", "x".repeat(201)]) {
      const err = await commitAndPush(ws.options({ branch })).catch((e: unknown) => e);
      expect(err, branch).toBeInstanceOf(PushError);
      expect((err as Error).message).toMatch(/^branch refused: /);
    }
    expect(ws.calls()).toEqual([]);
  });

  it("refuses a file:// remote outside local mode", async () => {
    const ws = await workspace();
    ws.cli("Never pushed either");
    const err = await commitAndPush(ws.options({ allowFile: false })).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/repository refused: .*local mode/);
    expect(ws.calls()).toEqual([]);
  });
});

describe("push failures and messages", () => {
  it("names a remote's own refusal, and an authentication failure points at the token", () => {
    expect(describePushFailure("b", "To x\n!\tabc:refs/heads/b\t[remote rejected] (protected branch hook declined)\nDone\n", "")).toBe(
      "the remote refused the push to 'b': protected branch hook declined",
    );
    expect(describePushFailure("feature/x", "!\tabc:refs/heads/feature/x\t[remote rejected] (failed to update ref)\n", "")).toMatch(
      /is there a branch named 'feature'\?/,
    );
    expect(describePushFailure("b", "", "fatal: Authentication failed for 'https://git.example/o/r.git/'\n")).toMatch(/access_token may write/);
    expect(describePushFailure("b", "", "fatal: something else\n")).toBe("git could not push to 'b': fatal: something else");
  });

  it("fails a push to a remote that has gone away with git's reason", async () => {
    const ws = await workspace();
    ws.cli("Nowhere to go");
    const gone = `file://${path.join(scratch, "does-not-exist.git")}`;
    const err = await commitAndPush(ws.options({ url: gone })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PushError);
    expect((err as Error).message).toMatch(/^git could not push to 'codeforge\/test-\d+': .*does-not-exist\.git/);
  });
});

describe("branch names", () => {
  it("accepts only names git's check-ref-format --branch accepts", () => {
    const names = [
      "main",
      "codeforge/tsk_01jabcdefghjkmnpqrstvwxyz0",
      "feature/a-b_c.d",
      "v1.2.3",
      "a/b/c",
      "UPPER/lower",
      "-x",
      "a..b",
      "a//b",
      "/a",
      "a/",
      "a.",
      "a.lock",
      "a/.b",
      "HEAD",
      "@",
      "a@{b",
      "a b",
      "a~1",
      "a^",
      "a:b",
      "a?",
      "a*",
      "a[b",
      "a\\b",
    ];
    for (const name of names) {
      if (checkBranchName(name) !== null) continue;
      expect(() => execFileSync("git", ["check-ref-format", "--branch", name], { stdio: "ignore" }), name).not.toThrow();
    }
    expect(checkBranchName("main")).toBeNull();
    expect(checkBranchName("-x")).toMatch(/must not start with '-'/);
    expect(checkBranchName("a b")).toMatch(/only contain/);
    expect(checkBranchName("x".repeat(200))).toBeNull();
    expect(checkBranchName("x".repeat(201))).toMatch(/1 to 200/);
  });
});

describe("commit messages", () => {
  it("take the prompt's first line with text, trimmed and cut to 72 characters", () => {
    expect(commitSubject("\n\n   Fix   the\tlogin bug  \nmore")).toBe("Fix the login bug");
    const long = commitSubject("x".repeat(100))!;
    expect([...long]).toHaveLength(72);
    expect(long.endsWith("…")).toBe(true);
    expect(commitSubject(" \n\t\n")).toBeNull();
    expect(commitMessage({ prompt: "\n", taskId: "tsk_1", cli: "claude", model: "opus" })).toBe(
      "CodeForge task tsk_1\n\nTask tsk_1, run by CodeForge with claude (model opus).\n\nCodeForge-Task: tsk_1\n",
    );
  });
});
