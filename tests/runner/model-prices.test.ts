// Unit: the model price table — longest-prefix match of model names, the operator's prices laid
// over the defaults, and what a call's four token counts cost.
import { describe, expect, it } from "vitest";
import { DEFAULT_MODEL_PRICES, modelPrices } from "../../runner/src/sandbox/model-prices.js";

const tokens = (input: number, output: number, cacheRead = 0, cacheWrite = 0) => ({
  input_tokens: input,
  output_tokens: output,
  cache_read_input_tokens: cacheRead,
  cache_creation_input_tokens: cacheWrite,
});

describe("model prices", () => {
  it("finds a dated model name's family, the most specific key first", () => {
    const prices = modelPrices();
    expect(prices.priceOf("claude-sonnet-4-5-20250929")).toEqual(DEFAULT_MODEL_PRICES["claude-sonnet-4"]);
    expect(prices.priceOf("claude-opus-4-1-20250805")).toEqual({ input: 15, output: 75, cache_read: 1.5, cache_write: 18.75 });
    expect(prices.priceOf("claude-opus-4-5-20251101")).toEqual({ input: 5, output: 25, cache_read: 0.5, cache_write: 6.25 });
    expect(prices.priceOf("gpt-5-mini-2025-08-07")).toEqual(DEFAULT_MODEL_PRICES["gpt-5-mini"]);
    expect(prices.priceOf("gpt-5-2025-08-07")).toEqual(DEFAULT_MODEL_PRICES["gpt-5"]);
    expect(prices.priceOf("gpt-4.1-nano-2025-04-14")).toEqual(DEFAULT_MODEL_PRICES["gpt-4.1-nano"]);
    expect(prices.priceOf("o4-mini-2025-04-16")).toEqual(DEFAULT_MODEL_PRICES["o4-mini"]);
    expect(prices.priceOf("gemini-2.5-flash-lite-preview-06-17")).toEqual(DEFAULT_MODEL_PRICES["gemini-2.5-flash-lite"]);
    expect(prices.priceOf("llama-3.3-70b")).toBeNull();
  });

  it("prices all four counts, cache prices defaulting to the input price", () => {
    const prices = modelPrices({ "house-model": { input: 2, output: 10 } });
    // 1M × $3 + 1M × $15 + 1M × $0.30 + 1M × $3.75
    expect(prices.costOf("claude-sonnet-4-5", tokens(1e6, 1e6, 1e6, 1e6))).toBeCloseTo(22.05, 10);
    expect(prices.costOf("house-model-v2", tokens(1_000, 100, 500, 500))).toBeCloseTo((1_000 * 2 + 100 * 10 + 500 * 2 + 500 * 2) / 1e6, 12);
    expect(prices.costOf("llama-3.3-70b", tokens(1, 1))).toBeNull();
  });

  it("lets the operator's prices replace a default or add a more specific prefix", () => {
    const prices = modelPrices({ "claude-sonnet-4": { input: 1, output: 1 }, "gpt-5-codex-special": { input: 0, output: 0 } });
    expect(prices.priceOf("claude-sonnet-4-5")).toEqual({ input: 1, output: 1 });
    expect(prices.costOf("gpt-5-codex-special-1", tokens(1e6, 1e6))).toBe(0);
    expect(prices.costOf("gpt-5-codex", tokens(1e6, 0))).toBe(1.25);
  });
});
