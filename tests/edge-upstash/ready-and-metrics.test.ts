/**
 * Integration: with the production limiter (Upstash Redis: the shim over a real `redis-server`),
 * `/ready` checks Redis and is ready, it writes nothing there (its check costs nothing), and
 * neither it nor `/metrics` is rate limited, however often probes and scrapes come.
 */
import { SELF } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { ORIGIN, apiFetch } from "../edge/api-client.js";
import { UPSTASH_TEST_LIMITS as LIMITS } from "./limits.js";
import { adminRedis as redis, scanAll } from "./redis-admin.js";

const REQUESTS = Number(LIMITS.RATE_LIMIT_REQUESTS_PER_MINUTE);

beforeEach(async () => {
  await redis().flushdb();
});

describe("/ready and /metrics with Upstash", () => {
  it("is ready when Redis answers, and the check stores nothing", async () => {
    const res = await SELF.fetch(`${ORIGIN}/ready`);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await scanAll(redis())).toEqual([]);
  });

  it("answers probes and scrapes beyond the per-minute request limit, while the API is limited", async () => {
    // Ten probes and ten scrapes at a time: a scrape reads every metrics shard, so one at a time
    // the loop could outlast the test's timeout on a loaded machine.
    for (let round = 0; round < (REQUESTS + 10) / 10; round++) {
      const answers = await Promise.all(Array.from({ length: 10 }, () => [SELF.fetch(`${ORIGIN}/ready`), SELF.fetch(`${ORIGIN}/metrics`)]).flat());
      expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
      await Promise.all(answers.map((r) => r.arrayBuffer()));
    }
    // Served requests spend the budget (a refused one, such as a 404, would give it back).
    const statuses: number[] = [];
    for (let i = 0; i < REQUESTS + 1; i++) statuses.push((await apiFetch("/api/v1/tasks")).status);
    expect(statuses.slice(0, REQUESTS).every((s) => s === 200)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });
});
