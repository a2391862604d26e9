/**
 * Model prices: what the model gateway charges a call, in US dollars, from the tokens it metered.
 *
 * The default table holds the providers' list prices (standard tier, prompts under any long-
 * context threshold, no batch discount) for their common current models, in USD per million
 * tokens. A model is matched by the longest key its name starts with, so dated names
 * (`claude-sonnet-4-5-20250929`, `gpt-4.1-mini-2025-04-14`) find their family, and a more
 * specific key (`gpt-5-mini`) wins over a shorter one (`gpt-5`). Operators lay their own prices
 * over the table (runner config `model_prices`), for contract prices, new models or a proxy's
 * names; a model no key matches has no price, and costs that include it are null.
 *
 * `cache_read` and `cache_write` default to the input price when a price leaves them out, so a
 * cost is never below what the provider could bill. Providers that do not charge for cache
 * writes (OpenAI, Gemini's implicit cache) never report cache-write tokens, so that price never
 * applies to them.
 * @module
 */
import { z } from "zod";
import type { ModelTokens } from "./model-meters.js";

/** USD per million tokens of each kind. */
export interface ModelPrice {
  input: number;
  output: number;
  cache_read?: number;
  cache_write?: number;
}

/** Model name or name prefix → price. */
export type ModelPriceTable = Readonly<Record<string, ModelPrice>>;

const usdPerMillion = z
  .number({ error: "must be a number of US dollars per million tokens" })
  .nonnegative("must be 0 or more")
  .max(10_000, "must be at most 10000 (USD per million tokens)");

/** One price as an operator writes it in the runner config; unknown fields are errors. */
export const ModelPriceConfig = z.strictObject({
  input: usdPerMillion,
  output: usdPerMillion,
  cache_read: usdPerMillion.optional(),
  cache_write: usdPerMillion.optional(),
});

/** The runner config's `model_prices`: model name or prefix → price. */
export const ModelPricesConfig = z.record(z.string().min(1, "a model name must not be empty").max(200), ModelPriceConfig);

/**
 * List prices, USD per million tokens, as the providers published them; Anthropic's as Claude
 * Code's own catalog has them. Anthropic's cache write is the 5-minute write (1.25× input; the
 * 1-hour write costs more), OpenAI's and Google's cache read their cached-input price. Long
 * prompts (over 200k tokens for Gemini 2.5/3 Pro, 100k for Haiku 5.5) are priced at the
 * short-prompt rate.
 */
export const DEFAULT_MODEL_PRICES: ModelPriceTable = {
  // Anthropic: Claude Code's own model catalog (2.1.332) agrees with these.
  "claude-opus-5-5": { input: 4, output: 20, cache_read: 0.2, cache_write: 5 },
  "claude-opus-5": { input: 5, output: 25, cache_read: 0.5, cache_write: 6.25 },
  "claude-opus-4-8": { input: 5, output: 25, cache_read: 0.5, cache_write: 6.25 },
  "claude-opus-4-7": { input: 5, output: 25, cache_read: 0.5, cache_write: 6.25 },
  "claude-opus-4-6": { input: 5, output: 25, cache_read: 0.5, cache_write: 6.25 },
  "claude-opus-4-5": { input: 5, output: 25, cache_read: 0.5, cache_write: 6.25 },
  "claude-opus-4-1": { input: 15, output: 75, cache_read: 1.5, cache_write: 18.75 },
  "claude-opus-4": { input: 15, output: 75, cache_read: 1.5, cache_write: 18.75 },
  "claude-sonnet-5-5": { input: 2, output: 10, cache_read: 0.1, cache_write: 2.5 },
  "claude-sonnet-5": { input: 2, output: 10, cache_read: 0.2, cache_write: 2.5 },
  "claude-sonnet-4": { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
  "claude-haiku-5-5": { input: 0.1, output: 0.5, cache_read: 0.01, cache_write: 0.125 },
  "claude-haiku-4": { input: 1, output: 5, cache_read: 0.1, cache_write: 1.25 },
  "claude-fable-5-2": { input: 8, output: 40, cache_read: 0.2, cache_write: 10 },
  "claude-fable-5-1": { input: 10, output: 50, cache_read: 0.25, cache_write: 12.5 },
  "claude-fable-5": { input: 10, output: 50, cache_read: 1, cache_write: 12.5 },
  "claude-mythos-5-2": { input: 8, output: 40, cache_read: 0.2, cache_write: 10 },
  "claude-mythos-5-1": { input: 10, output: 50, cache_read: 0.25, cache_write: 12.5 },
  "claude-mythos-5": { input: 10, output: 50, cache_read: 1, cache_write: 12.5 },
  "claude-3-7-sonnet": { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
  "claude-3-5-sonnet": { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
  "claude-3-5-haiku": { input: 0.8, output: 4, cache_read: 0.08, cache_write: 1 },
  // OpenAI
  "gpt-5": { input: 1.25, output: 10, cache_read: 0.125 },
  "gpt-5.2": { input: 1.75, output: 14, cache_read: 0.175 },
  "gpt-5-codex": { input: 1.25, output: 10, cache_read: 0.125 },
  "gpt-5-codex-mini": { input: 0.25, output: 2, cache_read: 0.025 },
  "gpt-5.1-codex-mini": { input: 0.25, output: 2, cache_read: 0.025 },
  "gpt-5-mini": { input: 0.25, output: 2, cache_read: 0.025 },
  "gpt-5-nano": { input: 0.05, output: 0.4, cache_read: 0.005 },
  "gpt-5-pro": { input: 15, output: 120 },
  "gpt-4.1": { input: 2, output: 8, cache_read: 0.5 },
  "gpt-4.1-mini": { input: 0.4, output: 1.6, cache_read: 0.1 },
  "gpt-4.1-nano": { input: 0.1, output: 0.4, cache_read: 0.025 },
  "gpt-4o": { input: 2.5, output: 10, cache_read: 1.25 },
  "gpt-4o-2024-05-13": { input: 5, output: 15 },
  "gpt-4o-mini": { input: 0.15, output: 0.6, cache_read: 0.075 },
  o3: { input: 2, output: 8, cache_read: 0.5 },
  "o3-mini": { input: 1.1, output: 4.4, cache_read: 0.55 },
  "o3-pro": { input: 20, output: 80 },
  "o4-mini": { input: 1.1, output: 4.4, cache_read: 0.275 },
  // Google (text input)
  "gemini-3-pro": { input: 2, output: 12, cache_read: 0.2 },
  "gemini-3-flash": { input: 0.5, output: 3, cache_read: 0.05 },
  "gemini-2.5-pro": { input: 1.25, output: 10, cache_read: 0.125 },
  "gemini-2.5-flash": { input: 0.3, output: 2.5, cache_read: 0.03 },
  "gemini-2.5-flash-lite": { input: 0.1, output: 0.4, cache_read: 0.01 },
  "gemini-2.0-flash": { input: 0.1, output: 0.4, cache_read: 0.025 },
  "gemini-2.0-flash-lite": { input: 0.075, output: 0.3 },
};

/** A price table lookup: the price of a model, or null when no key matches it. */
export interface ModelPrices {
  priceOf(model: string): ModelPrice | null;
  /** What `tokens` of `model` cost in USD; null when the model has no price. */
  costOf(model: string, tokens: ModelTokens): number | null;
}

/**
 * The default table with the operator's prices laid over it (an override replaces a key whole).
 * @example
 * const prices = modelPrices({ "my-proxy-model": { input: 1, output: 2 } });
 * prices.costOf("claude-sonnet-4-5-20250929", tokens);
 */
export function modelPrices(overrides: ModelPriceTable = {}, base: ModelPriceTable = DEFAULT_MODEL_PRICES): ModelPrices {
  const table: Record<string, ModelPrice> = { ...base, ...overrides };
  // Longest first, so the first key a name starts with is the most specific one.
  const keys = Object.keys(table).sort((a, b) => b.length - a.length);
  const cache = new Map<string, ModelPrice | null>();
  const priceOf = (model: string): ModelPrice | null => {
    let found = cache.get(model);
    if (found === undefined) {
      const key = keys.find((k) => model.startsWith(k));
      found = key === undefined ? null : table[key]!;
      cache.set(model, found);
    }
    return found;
  };
  return {
    priceOf,
    costOf(model, tokens) {
      const price = priceOf(model);
      if (!price) return null;
      const micro =
        tokens.input_tokens * price.input +
        tokens.output_tokens * price.output +
        tokens.cache_read_input_tokens * (price.cache_read ?? price.input) +
        tokens.cache_creation_input_tokens * (price.cache_write ?? price.input);
      return micro / 1_000_000;
    },
  };
}
