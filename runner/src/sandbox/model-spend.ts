/**
 * An attempt's model spend: the metered calls summed per model and priced, and whether the
 * task's budget still allows another call.
 *
 * The gateway records each call here as its answer ends and asks before forwarding the next.
 * Earlier attempts' spend (the lease's `task.budget`) counts against the limits with this
 * attempt's. Tokens counted are all four kinds together; a model without a price counts in
 * tokens only, since its cost is unknown, and a cost refusal names such models.
 * @module
 */
import { zeroTokens, type ModelTokens } from "./model-meters.js";
import { modelPrices, type ModelPriceTable } from "./model-prices.js";

/** One call's tokens and what they cost (null: the model has no price). */
export interface CallUsage extends ModelTokens {
  cost_usd: number | null;
}

/** One model's share of an attempt's calls (the shape of `api/task-result.ts` `ModelUsage`). */
export interface ModelUsageEntry extends ModelTokens {
  calls: number;
  /** Null when the model has no price. */
  cost_usd: number | null;
}

/** An attempt's model calls: the totals and the same per model. */
export interface ModelUsage extends ModelTokens {
  calls: number;
  /** The sum over `by_model`; null when any model used has no price. */
  cost_usd: number | null;
  by_model: Record<string, ModelUsageEntry>;
}

/** A task's limits and what earlier attempts of it spent (the lease's `task.budget`). */
export interface ModelBudget {
  /** US dollars; null: no cost limit. */
  maxCostUsd: number | null;
  /** Tokens of all four kinds together; null: no token limit. */
  maxTokens: number | null;
  /** Spent by earlier attempts; counts against the limits. */
  spentCostUsd: number;
  spentTokens: number;
}

export interface ModelSpend {
  /** Adds one metered call; returns its tokens with their cost. */
  record(model: string, tokens: ModelTokens): CallUsage;
  /** The totals so far (a copy). */
  usage(): ModelUsage;
  /** Why no further call may go out ("CodeForge budget exceeded: …"), or null while the budget lasts. */
  exceeded(): string | null;
}

const sumTokens = (t: ModelTokens) => t.input_tokens + t.output_tokens + t.cache_read_input_tokens + t.cache_creation_input_tokens;

/**
 * @example
 * const spend = createModelSpend({ prices: config.model_prices, budget });
 * spend.record("gpt-5", tokens);
 * if (spend.exceeded()) refuse();
 */
export function createModelSpend(options: { prices?: ModelPriceTable | undefined; budget?: ModelBudget | undefined }): ModelSpend {
  const prices = modelPrices(options.prices);
  const total: ModelUsage = { calls: 0, ...zeroTokens(), cost_usd: 0, by_model: {} };
  return {
    record(model, tokens) {
      const entry = (total.by_model[model] ??= { calls: 0, ...zeroTokens(), cost_usd: 0 });
      total.calls++;
      entry.calls++;
      for (const key of Object.keys(tokens) as (keyof ModelTokens)[]) {
        total[key] += tokens[key];
        entry[key] += tokens[key];
      }
      // Priced from the model's sums, so rounding never drifts from what its tokens cost.
      entry.cost_usd = prices.costOf(model, entry);
      const costs = Object.values(total.by_model).map((e) => e.cost_usd);
      total.cost_usd = costs.includes(null) ? null : costs.reduce<number>((sum, c) => sum + (c ?? 0), 0);
      return { ...tokens, cost_usd: prices.costOf(model, tokens) };
    },
    usage: () => structuredClone(total),
    exceeded() {
      const budget = options.budget;
      if (!budget) return null;
      const entries = Object.entries(total.by_model);
      if (budget.maxCostUsd !== null) {
        const cost = budget.spentCostUsd + entries.reduce((sum, [, e]) => sum + (e.cost_usd ?? 0), 0);
        if (cost >= budget.maxCostUsd) {
          const unpriced = entries.filter(([, e]) => e.cost_usd === null).map(([m]) => m);
          const note = unpriced.length > 0 ? ` (calls to ${unpriced.join(", ")} not counted: no price for them)` : "";
          return `CodeForge budget exceeded: spent $${usd(cost)} of $${usd(budget.maxCostUsd)}${note}`;
        }
      }
      if (budget.maxTokens !== null) {
        const tokens = budget.spentTokens + sumTokens(total);
        if (tokens >= budget.maxTokens)
          return `CodeForge budget exceeded: spent ${tokens.toLocaleString("en-US")} tokens of ${budget.maxTokens.toLocaleString("en-US")}`;
      }
      return null;
    },
  };
}

/** Dollars for a message: cents, or more places for small sums ($0.0042). */
function usd(value: number): string {
  return value.toFixed(4).replace(/(\.\d{2}\d*?)0+$/, "$1");
}
