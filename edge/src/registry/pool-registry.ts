/**
 * `PoolRegistry`: one Durable Object for the whole edge that knows which runner pools exist, so
 * `GET /api/v1/runners` and `/metrics` can ask each pool's Dispatcher for its runners and queue.
 *
 * It is off the hot path: Dispatchers report their pool once a minute at most (when runners
 * poll it or tasks are queued in it), and only the admin runners list and scrapes read it. The runners themselves stay in their pool's Dispatcher.
 * @module
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";
import { migrate } from "../sql/migrations.js";
import { listPools, POOL_MIGRATIONS, reportPool } from "./pool-store.js";

/** The one instance's name. */
export const POOL_REGISTRY_NAME = "global";

export class PoolRegistry extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage.sql, POOL_MIGRATIONS);
  }

  async report(pool: string): Promise<void> {
    reportPool(this.ctx.storage.sql, pool, Date.now());
  }

  async pools(): Promise<string[]> {
    return listPools(this.ctx.storage.sql, Date.now());
  }
}

/** The registry's stub. */
export function poolRegistry(env: Env) {
  return env.POOLS.get(env.POOLS.idFromName(POOL_REGISTRY_NAME));
}
