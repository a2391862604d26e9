/**
 * `PoolRegistry`: one Durable Object for the whole edge that knows which runner pools exist and
 * holds each one's latest snapshot (gauges and runners), pushed by the pool's Dispatcher.
 * `/metrics` and `GET /api/v1/runners` read it here in one call, never every Dispatcher.
 *
 * It is off the hot path: a Dispatcher pushes at most once per `POOL_SNAPSHOT_SECONDS` (10 s),
 * only when something in it changed, so with the 1,000 pools the table holds it takes at most
 * ~100 small writes a second; only scrapes and the admin runners list read it.
 * @module
 */
import { DurableObject } from "cloudflare:workers";
import type { RunnerInfo } from "#api/runner-protocol.js";
import type { Env } from "../env.js";
import { migrate } from "../sql/migrations.js";
import type { PoolGauges, PoolSnapshot } from "./pool-snapshot.js";
import { listPools, POOL_MIGRATIONS, poolGauges, type RunnerPosition, runnersPage, storeSnapshot } from "./pool-store.js";

/** The one instance's name. */
export const POOL_REGISTRY_NAME = "global";

export class PoolRegistry extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage.sql, POOL_MIGRATIONS);
  }

  /** The pool's Dispatcher reports its newest snapshot. */
  async report(pool: string, snapshot: PoolSnapshot): Promise<void> {
    storeSnapshot(this.ctx.storage.sql, pool, snapshot, Date.now());
  }

  async pools(): Promise<string[]> {
    return listPools(this.ctx.storage.sql, Date.now());
  }

  /** Every known pool's gauges, as of now. */
  async gauges(): Promise<{ pool: string; gauges: PoolGauges }[]> {
    return poolGauges(this.ctx.storage.sql, Date.now());
  }

  /** A page of live runners across pools (or of one pool), in (pool, id) order. */
  async runners(q: { pool?: string; after?: RunnerPosition; limit: number }): Promise<{ runners: RunnerInfo[]; next: RunnerPosition | null }> {
    return runnersPage(this.ctx.storage.sql, q, Date.now());
  }
}

/** The registry's stub. */
export function poolRegistry(env: Env) {
  return env.POOLS.get(env.POOLS.idFromName(POOL_REGISTRY_NAME));
}
