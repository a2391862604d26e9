/**
 * `Metrics`: the edge's counters and histograms, spread over `METRICS_SHARDS` Durable Objects.
 * Isolates flush their request metrics to one shard every few seconds (a random one each time);
 * task objects report task ends and webhook attempts to the shard their id hashes to. A scrape
 * reads every shard and adds them up: every stored sample is an amount to add (counters,
 * histogram buckets, sums and counts), so the sum is exact whichever shard took which flush.
 *
 * A thin shell over `metrics-store.ts`.
 * @module
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";
import { logFor } from "../log.js";
import { shardIndex } from "../sharding/shard-index.js";
import { migrate } from "../sql/migrations.js";
import { addSamples, METRICS_MIGRATIONS, readSamples } from "./metrics-store.js";
import { SampleSet, type Sample } from "./samples.js";

/**
 * Shards the samples are spread over. Sixteen keep each one far under an object's write rate
 * (at 15,000 requests/s and a flush per 200 requests an isolate, ~5 flushes/s a shard, plus
 * task ends) while a scrape stays sixteen small reads in parallel. Raise it freely (new shards
 * start empty and are read from then on); lowering it drops the counts of the shards left out.
 */
export const METRICS_SHARDS = 16;

export class Metrics extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage.sql, METRICS_MIGRATIONS);
  }

  /** Adds samples to this shard's totals; returns how many were refused. */
  async add(samples: Sample[]): Promise<number> {
    const refused = addSamples(this.ctx.storage.sql, samples);
    // Unknown names, bad values or a full table: a bug or a label minting series, worth seeing.
    if (refused > 0) logFor(this.env).warn("metric samples refused", { refused, of: samples.length });
    return refused;
  }

  /** Every series this shard stores, with its total. */
  async samples(): Promise<Sample[]> {
    return readSamples(this.ctx.storage.sql);
  }

  /** A cheap call for readiness checks. */
  async ping(): Promise<"pong"> {
    return "pong";
  }
}

/** Shard `index`'s stub (0 ≤ index < `METRICS_SHARDS`). */
export function metricsShard(env: Env, index: number) {
  return env.METRICS.get(env.METRICS.idFromName(`shard-${index}`));
}

/** The shard a writer sends to: the one `writer` hashes to, or a random one when none is named. */
export function metricsShardFor(env: Env, writer?: string) {
  const index = writer === undefined ? Math.floor(Math.random() * METRICS_SHARDS) : shardIndex(writer, METRICS_SHARDS);
  return metricsShard(env, index);
}

/**
 * Every shard's series added up: what a scrape shows. Fails when any shard does not answer: a
 * sum without it would go down, which Prometheus reads as a counter reset.
 */
export async function readMetricShards(env: Env): Promise<Sample[]> {
  const shards = await Promise.all(Array.from({ length: METRICS_SHARDS }, (_, i) => metricsShard(env, i).samples()));
  const total = new SampleSet();
  for (const samples of shards) total.add(samples);
  return total.toSamples();
}
