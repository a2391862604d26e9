// Integration: a task's budget, enforced by the runner's model gateway on the real Claude Code
// (the npm package, pinned) in the real bubblewrap sandbox against a local fake of Anthropic's
// Messages API. Past the budget the gateway refuses further calls and the runner stops the CLI;
// the task fails as budget_exceeded with what was spent, which the stream showed as it grew.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LeaseBudget, UsageEvent } from "#api/index.js";
import { startFakeAnthropic } from "../support/fake-anthropic.js";
import { createGitFixture, type GitFixture } from "./harness/git-fixture.js";
import { runRealCli } from "./harness/real-cli.js";

const OPERATOR_KEY = "sk-ant-api03-operator-key-for-the-budget-test-0002";
/** Priced in the gateway's default table: $3 per million input tokens, $15 output. */
const MODEL = "claude-sonnet-4-5";
const NO_BUDGET: LeaseBudget = { max_cost_usd: null, max_tokens: null, max_turns: null, spent_cost_usd: 0, spent_tokens: 0 };

let fixture: GitFixture;
beforeAll(() => {
  fixture = createGitFixture();
});
afterAll(() => fixture.remove());

async function runWithBudget(budget: Partial<LeaseBudget>) {
  // Many steps: the whole script would need far more calls than any budget below allows.
  const api = await startFakeAnthropic(
    Array.from({ length: 8 }, (_, i) => ({ tool: "Bash", input: { command: `echo step ${i + 1}`, description: `Step ${i + 1}` } })),
  );
  const run = await runRealCli({
    cli: "claude",
    api,
    key: OPERATOR_KEY,
    repo: fixture,
    task: { model: MODEL, prompt: "Run every step", budget: { ...NO_BUDGET, ...budget } },
  });
  return { ...run, requests: api.requests };
}

describe.skipIf(process.platform !== "linux")("a task's budget, enforced by the model gateway", () => {
  it("stops Claude Code once its calls pass max_tokens: budget_exceeded, the spend in the result and the stream", async () => {
    const { completion, events, requests, metrics } = await runWithBudget({ max_tokens: 300 });
    expect(completion.outcome).toBe("failed");
    expect(completion.error?.code).toBe("budget_exceeded");
    expect(completion.error?.message).toMatch(/^CodeForge budget exceeded: spent [\d,]+ tokens of 300$/);
    // Each call is 100 input and 20 output tokens: the budget allowed three calls, not the nine the script needs.
    expect(requests.length).toBeGreaterThanOrEqual(3);
    expect(requests.length).toBeLessThan(9);
    const result = completion.result!;
    expect(result.usage_source).toBe("gateway");
    expect(result.usage).toEqual({
      input_tokens: 100 * requests.length,
      output_tokens: 20 * requests.length,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
    });
    const expectedCost = (requests.length * (100 * 3 + 20 * 15)) / 1e6;
    expect(result.cost_usd).toBeCloseTo(expectedCost, 9);
    expect(result.model_usage?.[MODEL]).toMatchObject({ calls: requests.filter((r) => r.model === MODEL).length });
    // The stream carried the running totals after every call, with the budget.
    const usage = events.filter((e): e is UsageEvent => e.type === "usage");
    expect(usage.length).toBe(requests.length);
    expect(usage.map((e) => e.calls)).toEqual(requests.map((_, i) => i + 1));
    expect(usage.at(-1)).toMatchObject({ input_tokens: 100 * requests.length, max_tokens: 300 });
    expect(metrics).toMatch(new RegExp(`^codeforge_runner_model_cost_usd_total\\{cli="claude",model="${MODEL}"\\} [0-9.e-]+$`, "m"));
    expect(JSON.stringify(events)).not.toContain(OPERATOR_KEY);
  }, 120_000);

  it("refuses the first call when earlier attempts already spent max_cost_usd: no call reaches the provider", async () => {
    const { completion, events, requests } = await runWithBudget({ max_cost_usd: 0.5, spent_cost_usd: 0.5 });
    expect(requests).toEqual([]);
    expect(completion.outcome).toBe("failed");
    expect(completion.error).toEqual({ code: "budget_exceeded", message: "CodeForge budget exceeded: spent $0.50 of $0.50" });
    // The CLI was told why, in the provider's error shape, and said so.
    expect(JSON.stringify(events)).toContain("CodeForge budget exceeded");
  }, 120_000);

  it("ends Claude Code at max_turns: budget_exceeded naming the limit, the spend kept", async () => {
    const { completion, events, requests } = await runWithBudget({ max_turns: 2 });
    expect(completion.outcome).toBe("failed");
    expect(completion.error).toEqual({ code: "budget_exceeded", message: "the agent reached its turn limit (max_turns 2)" });
    expect(requests.filter((r) => r.withTools).length).toBe(2);
    expect(completion.result?.usage?.input_tokens).toBe(100 * requests.length);
    expect(events).toContainEqual(expect.objectContaining({ type: "agent", kind: "warning", text: "Reached maximum number of turns (2)" }));
  }, 120_000);
});
