// Integration: the model gateway's budgets, behind the egress proxy over real sockets, with local
// fakes of Anthropic's, OpenAI's and Google's model APIs as upstreams: calls past the task's cost
// or token budget are refused in the provider's own error shape, and the overrun reported once.
import { describe, expect, it } from "vitest";
import { useModelGatewayTestbed } from "./harness/model-gateway.js";

const gw = useModelGatewayTestbed();

describe("model gateway: budgets", () => {
  it("refuses calls once the budget is spent, in the provider's shape, and says so once", async () => {
    const reasons: string[] = [];
    const { gateway } = await gw.start(true, {
      upstream: gw.openai(),
      // $1,000 per million output tokens: one call's 300 cost $0.30 (input and cache free here).
      prices: { "gpt-test": { input: 0, output: 1_000, cache_read: 0 } },
      budget: { maxCostUsd: 0.5, maxTokens: null, spentCostUsd: 0.25, spentTokens: 0 },
      onBudgetExceeded: (reason) => reasons.push(reason),
    });
    const before = gw.apis.requests.length;
    const auth = { authorization: `Bearer ${gateway.placeholder}` };
    const first = await gw.request("/v1/responses", auth, { model: "gpt-test", input: "hi" });
    expect(first.status).toBe(200);
    expect(reasons).toEqual(["CodeForge budget exceeded: spent $0.55 of $0.50"]);
    for (const path of ["/v1/responses", "/v1/chat/completions"]) {
      const refused = await gw.request(path, auth, { model: "gpt-test", stream: true, input: "hi" });
      expect(refused.status).toBe(400);
      expect(refused.headers["x-should-retry"]).toBe("false");
      expect(JSON.parse(refused.text)).toEqual({
        error: { message: "CodeForge budget exceeded: spent $0.55 of $0.50", type: "invalid_request_error", param: null, code: "budget_exceeded" },
      });
    }
    expect(gw.apis.requests.length).toBe(before + 1);
    expect(reasons).toHaveLength(1);
    expect(gateway.usage()).toMatchObject({ calls: 1, cost_usd: 0.3 });
  });

  it("refuses the first call when earlier attempts spent the token budget, in Anthropic's and Gemini's shapes", async () => {
    const reasons: string[] = [];
    const budget = { maxCostUsd: null, maxTokens: 10_000, spentCostUsd: 0, spentTokens: 10_000 };
    const { gateway } = await gw.start(true, { budget, onBudgetExceeded: (reason) => reasons.push(reason) });
    const before = gw.api.requests.length;
    const anthropic = await gw.call(gateway.placeholder, { model: "claude-sonnet-4-5", messages: [] });
    expect(anthropic.status).toBe(402);
    expect(JSON.parse(anthropic.text)).toEqual({
      type: "error",
      error: { type: "billing_error", message: "CodeForge budget exceeded: spent 10,000 tokens of 10,000" },
    });
    const gemini = await gw.request(`/v1beta/models/gemini-2.5-pro:generateContent?key=${gateway.placeholder}`, {}, { contents: [] });
    expect(gemini.status).toBe(400);
    expect(JSON.parse(gemini.text)).toEqual({
      error: { code: 400, message: "CodeForge budget exceeded: spent 10,000 tokens of 10,000", status: "INVALID_ARGUMENT" },
    });
    expect(gw.api.requests.length).toBe(before);
    expect(reasons).toEqual(["CodeForge budget exceeded: spent 10,000 tokens of 10,000"]);
  });

  it("counts a model without a price in tokens only against a cost budget, and says so", async () => {
    const reasons: string[] = [];
    const { gateway } = await gw.start(true, {
      budget: { maxCostUsd: 0.0001, maxTokens: null, spentCostUsd: 0, spentTokens: 0 },
      onBudgetExceeded: (reason) => reasons.push(reason),
    });
    await gw.call(gateway.placeholder, { model: "claude-unlisted-9", messages: [] });
    expect(reasons).toEqual([]);
    expect(gateway.usage().cost_usd).toBeNull();
    // 100 × $3 + 20 × $15 per million = $0.0006 for Sonnet: past the limit.
    await gw.call(gateway.placeholder, { model: "claude-sonnet-4-20250514", messages: [] });
    expect(reasons).toEqual(["CodeForge budget exceeded: spent $0.0006 of $0.0001 (calls to claude-unlisted-9 not counted: no price for them)"]);
    expect((await gw.call(gateway.placeholder, { model: "claude-unlisted-9", messages: [] })).status).toBe(402);
  });
});
