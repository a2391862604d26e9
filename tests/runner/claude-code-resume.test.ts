// Integration: the real Claude Code (the npm package, pinned) resumes its conversation in a
// follow-up. The real runner runs it twice in the real bubblewrap sandbox against a local fake of
// Anthropic's Messages API (through the runner's model gateway): after iteration 1 the runner
// keeps the session with the (fake) edge, iteration 2's lease brings it back, and iteration 2's
// request to the API carries iteration 1's prompt and answer before its own prompt.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IterationBase, LogEvent } from "../../api/index.js";
import { createClaudeAdapter } from "../../runner/src/cli/claude/claude-adapter.js";
import type { LeaseLoop } from "../../runner/src/edge-link/lease-loop.js";
import { startFakeAnthropic, type FakeAnthropic } from "../support/fake-anthropic.js";
import { startFakeEdge, type FakeEdge, type FakeTask } from "./fake-edge.js";
import { createGitFixture, type GitFixture } from "./git-fixture.js";
import { SYSTEM_PATH, startTestRunner } from "./test-runner.js";

const BIN = fileURLToPath(new URL("../../node_modules/.bin", import.meta.url));
const PATH_ENV = `${BIN}:${SYSTEM_PATH}`;
const ANSWER = "Noted: the word is PELICAN.";

let fixture: GitFixture;
let edge: FakeEdge;
let api: FakeAnthropic;
let loop: LeaseLoop;
let workspaceRoot: string;

beforeAll(async () => {
  fixture = createGitFixture();
  api = await startFakeAnthropic([{ text: ANSWER }]);
  edge = await startFakeEdge({ heartbeatIntervalMs: 500 });
  workspaceRoot = mkdtempSync(path.join(os.tmpdir(), "codeforge-claude-resume-"));
  const claude = createClaudeAdapter({
    pathEnv: PATH_ENV,
    probeTimeoutMs: 20_000,
    env: { ANTHROPIC_API_KEY: "sk-ant-api03-operator-key-for-the-fake-api-0002", ANTHROPIC_BASE_URL: api.url, DISABLE_TELEMETRY: "1", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1" },
  });
  ({ loop } = await startTestRunner({
    edge,
    workspaceRoot,
    runnerId: "claude-resume-runner",
    adapters: [claude],
    pathEnv: PATH_ENV,
    sandbox: "bubblewrap",
    taskRunner: { egress: { allow: [], allowedNetworks: [] } },
  }));
});
afterAll(async () => {
  await loop?.stop(2_000);
  await edge?.close();
  await api?.close();
  fixture?.remove();
  rmSync(workspaceRoot, { recursive: true, force: true });
});

async function run(task: FakeTask) {
  const before = api.requests.length;
  const completion = await edge.waitFor(() => task.completion, 90_000);
  expect(completion.outcome, JSON.stringify(completion.error)).toBe("succeeded");
  return api.requests.slice(before).filter((r) => r.withTools);
}

describe.skipIf(process.platform !== "linux")("the real Claude Code in a follow-up", () => {
  it("resumes iteration 1's conversation: iteration 2's request carries iteration 1's messages", async () => {
    const first = edge.enqueue({ repo: { url: fixture.url, ref: "main" }, cli: "claude", prompt: "Remember the word PELICAN.", timeout_seconds: 120 });
    const firstRequests = await run(first);
    expect(firstRequests.at(-1)!.texts).toContain("Remember the word PELICAN.");
    expect(first.sessions).toHaveLength(1);
    const kept = first.sessions[0]!.session;
    expect(kept.cli).toBe("claude");

    const result = first.completion!.result!;
    const base: IterationBase = { kind: "patch", patch: result.patch, commit_sha: result.base_commit_sha! };
    const second = edge.enqueue({ ...first.spec, prompt: "Which word was it?", iteration: 2, base, resume: kept });
    const secondRequests = await run(second);
    const texts = secondRequests.at(-1)!.texts;
    const at = (text: string) => texts.indexOf(text);
    expect(at("Remember the word PELICAN.")).toBeGreaterThanOrEqual(0);
    expect(at(ANSWER)).toBeGreaterThan(at("Remember the word PELICAN."));
    expect(at("Which word was it?")).toBeGreaterThan(at(ANSWER));
    const logs = edge.events(second.id).flatMap((e) => (e.type === "log" ? [(e as LogEvent).message] : []));
    expect(logs).toContain("Resuming the previous iteration's claude session.");
    // The same conversation goes on, and is kept again for the next follow-up.
    expect(second.sessions[0]!.session.session_id).toBe(kept.session_id);
  }, 200_000);
});
