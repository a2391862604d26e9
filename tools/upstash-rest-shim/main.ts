/**
 * `npx tsx tools/upstash-rest-shim/main.ts`: serves the Upstash REST protocol over your Redis.
 *
 * Settings (environment): `REDIS_URL` (default `redis://127.0.0.1:6379`), `UPSTASH_SHIM_TOKEN`
 * (required, ≥ 16 characters; the edge's `UPSTASH_REDIS_REST_TOKEN`), `UPSTASH_SHIM_PORT`
 * (default 8079), `UPSTASH_SHIM_HOST` (default 127.0.0.1 — put TLS in front before exposing it).
 * @module
 */
import { once } from "node:events";
import Redis from "ioredis";
import { createUpstashRestShim } from "./shim-server.js";

const token = process.env.UPSTASH_SHIM_TOKEN ?? "";
if (token.length < 16) {
  console.error("UPSTASH_SHIM_TOKEN must be set to at least 16 characters");
  process.exit(2);
}
const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { lazyConnect: true, maxRetriesPerRequest: 1 });
await redis.connect();
const server = createUpstashRestShim({ redis, token });
const port = Number(process.env.UPSTASH_SHIM_PORT ?? 8079);
const host = process.env.UPSTASH_SHIM_HOST ?? "127.0.0.1";
server.listen(port, host);
await once(server, "listening");
console.log(`upstash-rest-shim listening on http://${host}:${port}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.close();
    redis.disconnect();
  });
}
