// Integration: the real Codex CLI (the npm package, pinned) resumes its conversation in a
// follow-up. The real runner runs it twice in the real bubblewrap sandbox against a local fake of
// OpenAI's Responses API (through the runner's model gateway): after iteration 1 the runner keeps
// the thread's rollout file with the (fake) edge, iteration 2's lease brings it back, the runner
// runs `codex exec … resume <id> -`, and iteration 2's request carries iteration 1's prompt and
// answer before its own prompt.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IterationBase } from "#api/index.js";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai.js";
import { logMessages } from "./harness/events.js";
import type { FakeTask } from "./harness/fake-edge.js";
import { createGitFixture, type GitFixture } from "./harness/git-fixture.js";
import { startRealCliRunner, type RealCliRunner } from "./harness/real-cli.js";

const ANSWER = "Noted: the word is PELICAN.";

let fixture: GitFixture;
let api: FakeOpenAI;
let runner: RealCliRunner;

beforeAll(async () => {
  fixture = createGitFixture();
  api = await startFakeOpenAI([{ text: ANSWER }]);
  runner = await startRealCliRunner({ cli: "codex", api, key: "sk-proj-operator-key-for-the-fake-openai-0002" });
});
afterAll(async () => {
  await runner?.close();
  fixture?.remove();
});

async function run(task: FakeTask) {
  const before = api.requests.length;
  const completion = await runner.complete(task, 90_000);
  expect(completion.outcome, JSON.stringify(completion.error)).toBe("succeeded");
  return api.requests.slice(before).filter((r) => r.withTools);
}

describe.skipIf(process.platform !== "linux")("the real Codex in a follow-up", () => {
  it("resumes iteration 1's thread: iteration 2's request carries iteration 1's messages", async () => {
    const first = runner.enqueue(fixture, { model: "gpt-5.5", prompt: "Remember the word PELICAN." });
    const firstRequests = await run(first);
    expect(firstRequests.at(-1)!.texts).toContain("Remember the word PELICAN.");
    expect(first.sessions).toHaveLength(1);
    const kept = first.sessions[0]!.session;
    expect(kept.cli).toBe("codex");

    const result = first.completion!.result!;
    const base: IterationBase = { kind: "patch", patch: result.patch, commit_sha: result.base_commit_sha! };
    const second = runner.edge.enqueue({ ...first.spec, prompt: "Which word was it?", iteration: 2, base, resume: kept });
    const texts = (await run(second)).at(-1)!.texts;
    const at = (text: string) => texts.indexOf(text);
    expect(at("Remember the word PELICAN.")).toBeGreaterThanOrEqual(0);
    expect(at(ANSWER)).toBeGreaterThan(at("Remember the word PELICAN."));
    expect(at("Which word was it?")).toBeGreaterThan(at(ANSWER));
    const logs = logMessages(runner.edge.events(second.id));
    expect(logs).toContain("Resuming the previous iteration's codex session.");
    expect(second.sessions[0]!.session.session_id).toBe(kept.session_id);
  }, 200_000);
});
