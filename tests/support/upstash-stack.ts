/**
 * A real `redis-server` with the Upstash REST shim in front of it: the Upstash side of the
 * rate-limit tests and of the benchmark. `stop()` ends both.
 * @module
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import Redis from "ioredis";
import { startRedisServer, type RedisServer } from "../../scripts/redis-server.js";
import { createUpstashRestShim } from "../../tools/upstash-rest-shim/shim-server.js";

export interface UpstashStack {
  redis: RedisServer;
  /** The shim's base URL (what `UPSTASH_REDIS_REST_URL` would be). */
  url: string;
  token: string;
  stop(): Promise<void>;
}

export async function startUpstashStack(): Promise<UpstashStack> {
  // It lives as long as the whole edge run (its Upstash project runs last, and a loaded machine
  // can take over half an hour to get there): longer than CI's limit, so only a leak outlives it.
  const redis = await startRedisServer({ maxLifetimeMs: 100 * 60_000 });
  const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  const token = `shim-token-${crypto.randomUUID()}`;
  const server = createUpstashRestShim({ redis: client, token });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    redis,
    url: `http://127.0.0.1:${port}`,
    token,
    async stop() {
      server.closeAllConnections();
      server.close();
      client.disconnect();
      await redis.stop();
    },
  };
}
