// Integration: the real Claude Code (the npm package, pinned) run by the real runner in the real
// bubblewrap sandbox, against a local fake of Anthropic's Messages API reached through the
// runner's model gateway. With full autonomy it runs the shell command the model asks for and
// writes the file; asking for edits only, the same command is refused. A subagent (the Agent
// tool) does its own calls and edits; an API error ends the task as Claude Code ended it, with
// the error visible; a 500 is retried and the run still succeeds. In every run the gateway's
// usage is what the fake charged over all calls, and the operator's key never enters the
// sandbox: the fake API receives it, the agent's own shell sees only a placeholder.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeAnthropic, type FakeAnthropicOptions, type ScriptStep } from "../support/fake-anthropic.js";
import { agentEvents } from "./harness/events.js";
import { createGitFixture, type GitFixture } from "./harness/git-fixture.js";
import { runRealCli } from "./harness/real-cli.js";

const OPERATOR_KEY = "sk-ant-api03-operator-key-for-the-fake-api-0001";
const COMMAND = "node -e \"console.log('the agent ran node:', 6 * 7)\" && printenv ANTHROPIC_API_KEY ANTHROPIC_BASE_URL";
const SCRIPT: ScriptStep[] = [
  { tool: "Bash", input: { command: COMMAND, description: "Run node" } },
  { tool: "Write", input: { file_path: "/workspace/AGENT_NOTES.md", content: "Written by the agent.\n" } },
  { text: "I ran node and wrote AGENT_NOTES.md." },
];
/** What the fake charges for every answer it gives (none for an error). */
const CHARGED = { input_tokens: 100, output_tokens: 20 };

let fixture: GitFixture;
beforeAll(() => {
  fixture = createGitFixture();
});
afterAll(() => fixture.remove());

async function runClaude(autonomy: "full" | "edits", script: readonly ScriptStep[] = SCRIPT, options: FakeAnthropicOptions = {}) {
  const api = await startFakeAnthropic(script, options);
  const run = await runRealCli({
    cli: "claude",
    api,
    key: OPERATOR_KEY,
    // One retry at most, so a test of a given-up call does not wait through Claude Code's backoff.
    env: { CLAUDE_CODE_MAX_RETRIES: "1" },
    repo: fixture,
    task: { prompt: "Run node, then write AGENT_NOTES.md", autonomy },
  });
  return { ...run, requests: api.requests };
}

type Run = Awaited<ReturnType<typeof runClaude>>;

/** The key reached the fake only, no event or result of the task holds it, and nothing else was called. */
function expectKeyOnlyAtTheProvider(run: Run) {
  expect(run.requests.length).toBeGreaterThan(0);
  expect(run.requests.every((r) => r.key === OPERATOR_KEY)).toBe(true);
  expect(JSON.stringify(run.events)).not.toContain(OPERATOR_KEY);
  expect(JSON.stringify(run.completion)).not.toContain(OPERATOR_KEY);
  expect(run.events.filter((e) => e.type === "egress_denied")).toEqual([]);
}

/** The gateway's usage in the result is what the fake charged, over every call it answered. */
function expectMeteredAsCharged(run: Run) {
  const answered = run.requests.filter((r) => r.failedWith === undefined).length;
  const usage = run.completion.result?.usage ?? null;
  if (answered === 0) return expect(usage?.input_tokens ?? 0).toBe(0);
  expect(run.completion.result?.usage_source).toBe("gateway");
  expect(usage).toEqual({
    input_tokens: CHARGED.input_tokens * answered,
    output_tokens: CHARGED.output_tokens * answered,
    cache_read_input_tokens: 0,
    cache_creation_input_tokens: 0,
  });
}

describe.skipIf(process.platform !== "linux")("the real Claude Code in the sandbox", () => {
  it("with full autonomy streams, runs the shell command and edits the file; the key reached only the API", async () => {
    const run = await runClaude("full");
    const { completion, events, requests } = run;
    expect(completion.error).toBeNull();
    expect(completion.outcome).toBe("succeeded");
    expect(completion.result?.sandbox).toBe("bubblewrap");
    expect(completion.result?.changed_files).toEqual([{ path: "AGENT_NOTES.md", status: "added" }]);
    expect(completion.result?.final_message).toBe("I ran node and wrote AGENT_NOTES.md.");
    // The agent's turns were streamed.
    expect(requests.filter((r) => r.withTools).every((r) => r.stream)).toBe(true);
    // The command ran inside the sandbox and its output went back to the model.
    const agentRequests = requests.filter((r) => r.withTools);
    const shell = agentRequests.flatMap((r) => r.toolResults).join("\n");
    expect(shell).toContain("the agent ran node: 42");
    // What the agent's own shell sees: the gateway and a placeholder, not the operator's key.
    expect(shell).toMatch(/^cf-gateway-[0-9a-f]{36}$/m);
    expect(shell).toContain("http://model-gateway.codeforge.invalid");
    expect(shell).not.toContain(OPERATOR_KEY);
    // The gateway counted every call the provider billed, side calls included.
    expectMeteredAsCharged(run);
    const { metrics } = run;
    const model = requests[0]!.model;
    expect(metrics).toContain(
      `codeforge_runner_model_tokens_total{cli="claude",model="${model}",kind="input"} ${CHARGED.input_tokens * requests.filter((r) => r.model === model).length}`,
    );
    const calls = [...metrics.matchAll(/^codeforge_runner_model_calls_total\{cli="claude",model="[^"]+"\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    expect(calls).toBe(requests.length);
    const toolUses = agentEvents(events)
      .filter((e) => e.kind === "tool_use")
      .map((e) => e.tool);
    expect(toolUses).toEqual(["Bash", "Write"]);
    expectKeyOnlyAtTheProvider(run);
  }, 120_000);

  it("asking for edits only, the same shell command is refused", async () => {
    const { completion, requests } = await runClaude("edits");
    const results = requests
      .filter((r) => r.withTools)
      .flatMap((r) => r.toolResults)
      .join("\n");
    expect(results).toMatch(/require approval|requires approval/);
    expect(results).not.toContain("the agent ran node: 42");
    expect(completion.result?.changed_files).toEqual([{ path: "AGENT_NOTES.md", status: "added" }]);
  }, 120_000);

  it("a subagent does its own calls and edits; the gateway counts them with the main agent's", async () => {
    const run = await runClaude(
      "full",
      [
        {
          tool: "Agent",
          input: {
            description: "Write the notes",
            prompt: "SUBAGENT-NOTES: write SUBAGENT_NOTES.md",
            subagent_type: "general-purpose",
            run_in_background: false,
          },
        },
        { text: "The subagent wrote SUBAGENT_NOTES.md." },
      ],
      {
        subagents: {
          "SUBAGENT-NOTES": [
            { tool: "Write", input: { file_path: "/workspace/SUBAGENT_NOTES.md", content: "Written by the subagent.\n" } },
            { text: "Wrote SUBAGENT_NOTES.md." },
          ],
        },
      },
    );
    const { completion, requests } = run;
    expect(completion.error).toBeNull();
    expect(completion.outcome).toBe("succeeded");
    expect(completion.result?.changed_files).toEqual([{ path: "SUBAGENT_NOTES.md", status: "added" }]);
    expect(completion.result?.patch).toContain("+Written by the subagent.");
    // The subagent's two turns reached the provider, and its result went back to the main agent.
    expect(requests.filter((r) => r.subagent === "SUBAGENT-NOTES")).toHaveLength(2);
    expect(
      requests
        .filter((r) => r.withTools && r.subagent === undefined)
        .flatMap((r) => r.toolResults)
        .join("\n"),
    ).toContain("Wrote SUBAGENT_NOTES.md.");
    // The stream links the subagent's tool call to the Agent call that started it.
    const toolUses = agentEvents(run.events).filter((e) => e.kind === "tool_use");
    const agent = toolUses.find((e) => e.tool === "Agent");
    expect(toolUses.filter((e) => e.tool === "Write").map((e) => e.parent_id)).toEqual([agent?.id]);
    expect(agent?.id).toBeTruthy();
    expectMeteredAsCharged(run);
    expectKeyOnlyAtTheProvider(run);
  }, 120_000);

  it("an API error ends the task as Claude Code ended it, with the error visible", async () => {
    const run = await runClaude("full", SCRIPT, { failures: [{ status: 403, message: "This organization may not use this model (fake)." }] });
    const { completion, events, requests } = run;
    expect(completion.outcome).toBe("failed");
    expect(completion.error?.code).toBe("cli_failed");
    expect(completion.result?.changed_files).toEqual([]);
    // Not retried: the one agent call got the error.
    expect(requests.filter((r) => r.withTools).map((r) => r.failedWith)).toEqual([403]);
    const errors = agentEvents(events).filter((e) => e.is_error || e.kind === "api_error");
    expect(errors.map((e) => e.text).join("\n")).toContain("This organization may not use this model (fake).");
    expect(
      agentEvents(events)
        .filter((e) => e.kind === "api_error")
        .map((e) => e.status),
    ).toEqual([403]);
    expectMeteredAsCharged(run);
    expectKeyOnlyAtTheProvider(run);
  }, 120_000);

  it("a 500 is retried; the run succeeds and the retry is not an error", async () => {
    const run = await runClaude("full", SCRIPT, { failures: [{ status: 500, message: "Internal server error (fake)." }] });
    const { completion, events, requests } = run;
    expect(completion.error).toBeNull();
    expect(completion.outcome).toBe("succeeded");
    expect(completion.result?.changed_files).toEqual([{ path: "AGENT_NOTES.md", status: "added" }]);
    const agentCalls = requests.filter((r) => r.withTools);
    expect(agentCalls.map((r) => r.failedWith ?? null)).toEqual([500, null, null, null]);
    // The retry shows as one, with the status the API answered; no event reports an error.
    expect(
      agentEvents(events)
        .filter((e) => e.kind === "retry")
        .map((e) => e.status),
    ).toEqual([500]);
    expect(agentEvents(events).filter((e) => e.is_error || e.kind === "api_error")).toEqual([]);
    expectMeteredAsCharged(run);
    expectKeyOnlyAtTheProvider(run);
  }, 120_000);
});
