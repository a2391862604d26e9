/**
 * `Metrics`: one Durable Object for the whole edge that holds the global counters and
 * histograms. Isolates flush their request metrics here every few seconds; task objects report
 * task ends and webhook attempts from their own turns. `/metrics` reads it at scrape time.
 *
 * A thin shell over `metrics-store.ts`.
 * @module
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";
import { logFor } from "../log.js";
import { migrate } from "../sql/migrations.js";
import { addSamples, METRICS_MIGRATIONS, readSamples } from "./metrics-store.js";
import type { Sample } from "./samples.js";

/** The one instance's name. */
export const METRICS_NAME = "global";

export class Metrics extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage.sql, METRICS_MIGRATIONS);
  }

  /** Adds samples to the global totals; returns how many were refused. */
  async add(samples: Sample[]): Promise<number> {
    const refused = addSamples(this.ctx.storage.sql, samples);
    // Unknown names, bad values or a full table: a bug or a label minting series, worth seeing.
    if (refused > 0) logFor(this.env).warn("metric samples refused", { refused, of: samples.length });
    return refused;
  }

  /** Every stored series with its total. */
  async samples(): Promise<Sample[]> {
    return readSamples(this.ctx.storage.sql);
  }

  /** A cheap call for readiness checks. */
  async ping(): Promise<"pong"> {
    return "pong";
  }
}

/** The global metrics object's stub. */
export function metricsObject(env: Env) {
  return env.METRICS.get(env.METRICS.idFromName(METRICS_NAME));
}
