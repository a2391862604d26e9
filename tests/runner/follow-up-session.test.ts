// Integration: what a follow-up's agent finds — the checkout on the task's named branch, and
// (for CLIs that can resume) the conversation of the iteration before. The real runner, real git
// against file:// repositories, and the stand-in CLIs (tests/runner/fixtures/bin), which keep
// their sessions where the real ones do and resume them with the real ones' arguments, against
// the fake edge.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AgentEvent, IterationBase, LogEvent } from "../../api/index.js";
import { configuredAdapters } from "../../runner/src/cli/configured-adapters.js";
import type { LeaseLoop } from "../../runner/src/lease-loop.js";
import { startFakeEdge, type FakeEdge, type FakeTask } from "./fake-edge.js";
import { createGitFixture, git, type GitFixture } from "./git-fixture.js";
import { startTestRunner } from "./test-runner.js";

const BIN = fileURLToPath(new URL("./fixtures/bin", import.meta.url));
const PATH_ENV = `${BIN}:${process.env.PATH ?? "/usr/bin:/bin"}`;
const ENV = { claude: { ANTHROPIC_API_KEY: "sk-ant-test-key-0123456789" }, codex: { OPENAI_API_KEY: "sk-openai-test-key-0123456789" } };

let fixture: GitFixture;
let edge: FakeEdge;
let loop: LeaseLoop;
let workspaceRoot: string;

beforeAll(() => {
  fixture = createGitFixture();
});
afterAll(() => fixture.remove());
beforeEach(async () => {
  edge = await startFakeEdge({ heartbeatIntervalMs: 150 });
  workspaceRoot = mkdtempSync(path.join(os.tmpdir(), "codeforge-session-"));
  ({ loop } = await startTestRunner({
    edge,
    workspaceRoot,
    runnerId: "session-runner",
    adapters: configuredAdapters({ clis: ["claude", "codex", "demo"], cli_env: {}, script_command: undefined, script_args: [] }, PATH_ENV),
    pathEnv: PATH_ENV,
  }));
});
afterEach(async () => {
  await loop.stop(2_000);
  await edge.close();
  rmSync(workspaceRoot, { recursive: true, force: true });
});

const done = async (task: FakeTask) => {
  const completion = await edge.waitFor(() => task.completion, 20_000);
  expect(completion.outcome, JSON.stringify(completion.error)).toBe("succeeded");
  return completion;
};
const texts = (task: FakeTask) => edge.events(task.id).flatMap((e) => (e.type === "agent" && (e as AgentEvent).kind === "text" ? [(e as AgentEvent).text!] : []));
const logs = (task: FakeTask) => edge.events(task.id).flatMap((e) => (e.type === "log" ? [(e as LogEvent).message] : []));


describe("the checkout is on the task's branch", () => {
  it("names the branch codeforge/<task-id> in a first iteration without push: the agent never sees a detached HEAD", async () => {
    const task = edge.enqueue({ repo: { url: fixture.url, ref: "main" }, cli: "claude", env: ENV.claude, prompt: "Where am I [branch]" });
    await done(task);
    expect(texts(task)).toContain(`BRANCH codeforge/${task.id}`);
    expect(logs(task)).toContain(`Checked out ${fixture.mainSha}, on branch codeforge/${task.id}`);
  });

  it("checks out a commit id on the push branch the task chose", async () => {
    const task = edge.enqueue({ repo: { url: fixture.url, ref: fixture.featureSha }, cli: "claude", env: ENV.claude, prompt: "Where am I [branch]", push: { branch: "agent/named-by-client" } });
    const completion = await done(task);
    expect(texts(task)).toContain("BRANCH agent/named-by-client");
    // Pushed from the named branch: the commit is on the remote, on top of the commit checked out.
    const pushed = completion.result!.push!;
    expect(pushed.branch).toBe("agent/named-by-client");
    expect(git(fixture.dir, "--git-dir", "origin.git", "rev-parse", `${pushed.commit_sha}^`)).toBe(fixture.featureSha);
  });

  it("keeps a follow-up on the branch, diffing against the starting commit", async () => {
    const first = edge.enqueue({ repo: { url: fixture.url, ref: "main" }, cli: "claude", env: ENV.claude, prompt: "First" });
    const result = (await done(first)).result!;
    const base: IterationBase = { kind: "patch", patch: result.patch, commit_sha: result.base_commit_sha! };
    const second = edge.enqueue({ repo: { url: fixture.url, ref: "main" }, cli: "claude", env: ENV.claude, prompt: "Second [branch]", iteration: 2, base });
    const completion = await done(second);
    expect(texts(second)).toContain(`BRANCH codeforge/${second.id}`);
    expect(completion.result!.base_commit_sha).toBe(fixture.mainSha);
    expect(completion.result!.changed_files).toEqual([{ path: "EDITED_BY_CLAUDE.md", status: "added" }]);
  });
});
