// Integration: the real CLIs that can resume a conversation do so in a follow-up. For each, the
// real runner runs the pinned npm package twice in the real bubblewrap sandbox against a local
// fake of its provider's API (through the runner's model gateway): after iteration 1 the runner
// keeps the session with the (fake) edge — Claude Code's conversation, Codex's thread rollout
// file — iteration 2's lease brings it back (`codex exec … resume <id> -` for Codex), and
// iteration 2's request carries iteration 1's prompt and answer before its own prompt.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IterationBase } from "#api/index.js";
import { startFakeAnthropic } from "../support/fake-anthropic.js";
import { startFakeOpenAI } from "../support/fake-openai.js";
import { logMessages } from "./harness/events.js";
import type { FakeTask } from "./harness/fake-edge.js";
import { createGitFixture, type GitFixture } from "./harness/git-fixture.js";
import { type RealCli, type RealCliRunner, startRealCliRunner } from "./harness/real-cli.js";

const ANSWER = "Noted: the word is PELICAN.";

type FakeApi = Awaited<ReturnType<typeof startFakeAnthropic>> | Awaited<ReturnType<typeof startFakeOpenAI>>;

const CASES: { cli: RealCli; name: string; start: () => Promise<FakeApi>; key: string; model?: string }[] = [
  { cli: "claude", name: "Claude Code", start: () => startFakeAnthropic([{ text: ANSWER }]), key: "sk-ant-api03-operator-key-for-the-fake-api-0002" },
  {
    cli: "codex",
    name: "Codex",
    start: () => startFakeOpenAI([{ text: ANSWER }]),
    key: "sk-proj-operator-key-for-the-fake-openai-0002",
    model: "gpt-5.5",
  },
];

describe.skipIf(process.platform !== "linux").each(CASES)("the real $name in a follow-up", ({ cli, start, key, model }) => {
  let fixture: GitFixture;
  let api: FakeApi;
  let runner: RealCliRunner;

  beforeAll(async () => {
    fixture = createGitFixture();
    api = await start();
    runner = await startRealCliRunner({ cli, api, key });
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

  it("resumes iteration 1's conversation: iteration 2's request carries iteration 1's messages", async () => {
    const first = runner.enqueue(fixture, { ...(model ? { model } : {}), prompt: "Remember the word PELICAN." });
    const firstRequests = await run(first);
    expect(firstRequests.at(-1)!.texts).toContain("Remember the word PELICAN.");
    expect(first.sessions).toHaveLength(1);
    const kept = first.sessions[0]!.session;
    expect(kept.cli).toBe(cli);

    const result = first.completion!.result!;
    const base: IterationBase = { kind: "patch", patch: result.patch, commit_sha: result.base_commit_sha! };
    const second = runner.edge.enqueue({ ...first.spec, prompt: "Which word was it?", iteration: 2, base, resume: kept });
    const texts = (await run(second)).at(-1)!.texts;
    const at = (text: string) => texts.indexOf(text);
    expect(at("Remember the word PELICAN.")).toBeGreaterThanOrEqual(0);
    expect(at(ANSWER)).toBeGreaterThan(at("Remember the word PELICAN."));
    expect(at("Which word was it?")).toBeGreaterThan(at(ANSWER));
    const logs = logMessages(runner.edge.events(second.id));
    expect(logs).toContain(`Resuming the previous iteration's ${cli} session.`);
    // The same conversation goes on, and is kept again for the next follow-up.
    expect(second.sessions[0]!.session.session_id).toBe(kept.session_id);
  }, 200_000);
});
