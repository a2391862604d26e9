/**
 * Integration: the rate limits as a client meets them, through the real Worker configured for
 * Upstash Redis (the shim over a real `redis-server`) with this project's low limits
 * (`limits.ts`). Each test starts from an empty Redis.
 */
import { SELF } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { ORIGIN, apiFetch, expectError, taskSpec, uniquePool } from "../edge/api-client.js";
import { TEST_ADMIN_KEY } from "../edge/credentials.js";
import { createKey } from "../edge/key-client.js";
import { requestLease } from "../edge/runner-client.js";
import { sha256Hex } from "#api/signing.js";
import { UPSTASH_KEY_PREFIX_DEFAULT } from "../../edge/src/rate-limit/upstash-limiter.js";
import { UPSTASH_TEST_LIMITS as LIMITS } from "./limits.js";
import { adminRedis as redis, scanAll } from "./redis-admin.js";

const TASKS = Number(LIMITS.RATE_LIMIT_TASKS_PER_MINUTE);
const REQUESTS = Number(LIMITS.RATE_LIMIT_REQUESTS_PER_MINUTE);
const AUTH_FAILURES = Number(LIMITS.RATE_LIMIT_AUTH_FAILURES_PER_MINUTE);
const STREAMS = Number(LIMITS.RATE_LIMIT_STREAMS_PER_MINUTE);

const fromIp = (ip: string, headers: Record<string, string> = {}) => ({ "cf-connecting-ip": ip, ...headers });
const createFrom = (ip: string) => apiFetch("/api/v1/tasks", { json: taskSpec({ pool: uniquePool() }), headers: fromIp(ip) });

beforeEach(async () => {
  await redis().flushdb();
});

describe("rate-limited routes (Upstash)", () => {
  it("creates tasks up to the per-key limit, then answers 429 with Retry-After and the IETF headers", async () => {
    for (let i = 0; i < TASKS; i++) {
      const res = await createFrom("198.51.100.1");
      expect(res.status, await res.clone().text()).toBe(201);
      expect(res.headers.get("ratelimit-policy")).toBe(`"tasks";q=${TASKS};w=60, "requests";q=${REQUESTS};w=60`);
      expect(res.headers.get("ratelimit")).toBe(`"tasks";r=${TASKS - 1 - i};t=60, "requests";r=${REQUESTS - 1 - i};t=60`);
    }
    const refused = await createFrom("198.51.100.1");
    // Until the oldest of the window's tasks leaves it: 60 s after it, less the moments since.
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(50);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Refused, it spent nothing: not even the general budget.
    expect(refused.headers.get("ratelimit-policy")).toBe(`"tasks";q=${TASKS};w=60, "requests";q=${REQUESTS};w=60`);
    expect(refused.headers.get("ratelimit")).toMatch(new RegExp(`^"tasks";r=0;t=(5\\d|60), "requests";r=${REQUESTS - TASKS};t=(5\\d|60)$`));
    const body = await expectError(refused, 429, "rate_limited");
    expect(body.error.message).toContain("tasks");

    // Reads spend only the general budget: still fine.
    const read = await apiFetch("/api/v1/tasks");
    expect(read.status).toBe(200);
    expect(read.headers.get("ratelimit-policy")).toBe(`"requests";q=${REQUESTS};w=60`);
    expect(read.headers.get("ratelimit")).toBe(`"requests";r=${REQUESTS - TASKS - 1};t=60`);
    // A read the route refuses (404) gives back what it spent.
    const missing = await apiFetch("/api/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa");
    expect(missing.headers.get("ratelimit")).toBe(`"requests";r=${REQUESTS - TASKS - 1};t=60`);
    await expectError(missing, 404, "not_found");
  });

  it("admits exactly the limit of 50 parallel task submissions", async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => createFrom(`198.51.100.${i + 10}`)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(TASKS);
    expect(statuses.filter((s) => s === 429)).toHaveLength(50 - TASKS);
    await Promise.all(results.map((r) => r.body?.cancel()));
  });

  it("limits every /api/v1 request per key, and never /health, /ready or the runner API", async () => {
    const health = await Promise.all(Array.from({ length: REQUESTS + 5 }, () => SELF.fetch(`${ORIGIN}/health`)));
    for (const res of health) {
      expect(res.status).toBe(200);
      expect(res.headers.get("ratelimit")).toBeNull();
      await res.body?.cancel();
    }
    expect((await SELF.fetch(`${ORIGIN}/ready`)).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      const lease = await requestLease({ pool: uniquePool() });
      expect(lease.status).toBe(204);
      expect(lease.headers.get("ratelimit")).toBeNull();
    }
    const { id } = (await (await createFrom("198.51.100.2")).json()) as { id: string };
    const reads = await Promise.all(Array.from({ length: REQUESTS + 5 }, () => apiFetch(`/api/v1/tasks/${id}`)));
    expect(reads.filter((r) => r.status === 200)).toHaveLength(REQUESTS - 1);
    const refused = reads.filter((r) => r.status === 429);
    expect(refused).toHaveLength(6);
    await Promise.all(reads.filter((r) => r.status === 200).map((r) => r.body?.cancel()));
    await expectError(refused[0]!, 429, "rate_limited");
  });

  it("answers 429 to an IP after repeated failed authentications, even with a good key, and only to that IP", async () => {
    for (let i = 0; i < AUTH_FAILURES; i++) {
      await expectError(
        await apiFetch("/api/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa", { key: "wrong-key-0123456789", headers: fromIp("203.0.113.9") }),
        401,
        "unauthorized",
      );
    }
    const guessed = await apiFetch("/api/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa", { key: "wrong-key-0123456789", headers: fromIp("203.0.113.9") });
    expect(guessed.headers.get("retry-after")).toBe("60");
    await expectError(guessed, 429, "rate_limited");
    // The right key from the throttled address gets the same answer: no oracle for guessers.
    const good = await apiFetch("/api/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa", { headers: fromIp("203.0.113.9") });
    expect(good.headers.get("retry-after")).toBe("60");
    await expectError(good, 429, "rate_limited");
    // Another address is unaffected.
    expect((await apiFetch("/api/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa", { headers: fromIp("203.0.113.10") })).status).toBe(404);
  });

  it("limits new stream connections per IP", async () => {
    const ids: string[] = [];
    for (let i = 0; i < STREAMS; i++) {
      const created = await createFrom(`192.0.2.${100 + i}`);
      ids.push(((await created.json()) as { id: string }).id);
    }
    const sockets: WebSocket[] = [];
    for (let i = 0; i < STREAMS; i++) {
      const res = await apiFetch(`/api/v1/tasks/${ids[i]}/stream`, { headers: fromIp("192.0.2.1", { upgrade: "websocket" }) });
      expect(res.status).toBe(101);
      res.webSocket!.accept();
      sockets.push(res.webSocket!);
    }
    // A task with room for another watcher: only the per-IP limit can refuse this one.
    const refused = await apiFetch(`/api/v1/tasks/${ids[0]}/stream`, { headers: fromIp("192.0.2.1", { upgrade: "websocket" }) });
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(59);
    await expectError(refused, 429, "rate_limited");
    const other = await apiFetch(`/api/v1/tasks/${ids[1]}/stream`, { headers: fromIp("192.0.2.2", { upgrade: "websocket" }) });
    expect(other.status).toBe(101);
    other.webSocket!.accept();
    for (const ws of [...sockets, other.webSocket!]) ws.close(1000, "done");
  });

  it("caps concurrent watchers per task with a 503 envelope, and takes new ones as others leave", async () => {
    const created = await createFrom("192.0.2.200");
    const { id } = (await created.json()) as { id: string };
    const open = async (ip: string) => apiFetch(`/api/v1/tasks/${id}/stream`, { headers: fromIp(ip, { upgrade: "websocket" }) });
    const cap = Number(LIMITS.STREAM_MAX_WATCHERS_PER_TASK);
    const sockets: WebSocket[] = [];
    for (let i = 0; i < cap; i++) {
      const res = await open(`192.0.2.${210 + i}`);
      expect(res.status).toBe(101);
      res.webSocket!.accept();
      sockets.push(res.webSocket!);
    }
    const full = await open("192.0.2.230");
    expect(full.headers.get("retry-after")).toBe("5");
    await expectError(full, 503, "unavailable");

    const closed = new Promise((resolve) => sockets[0]!.addEventListener("close", resolve));
    sockets[0]!.close(1000, "leaving");
    await closed;
    let again: Response | undefined;
    for (let attempt = 0; attempt < 20; attempt++) {
      again = await open("192.0.2.231");
      if (again.status === 101) break;
      await again.body?.cancel();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(again!.status).toBe(101);
    again!.webSocket!.accept();
    for (const ws of [sockets[1]!, again!.webSocket!]) ws.close(1000, "done");
  });

  it("gives back what a refused task submission spent: a read-only key's 403s use up neither tasks nor requests", async () => {
    const key = await createKey({ scopes: ["tasks:read"] });
    for (let i = 0; i < 2 * TASKS + 1; i++) {
      const res = await apiFetch("/api/v1/tasks", { key: key.key, json: taskSpec({ pool: uniquePool() }) });
      expect(res.headers.get("ratelimit")).toBe(`"tasks";r=${TASKS};t=0, "requests";r=${REQUESTS};t=0`);
      await expectError(res, 403, "forbidden");
    }
    // Nothing is left in Redis for the key's windows (an emptied sorted set is deleted)…
    const windowKey = async (policy: string) => UPSTASH_KEY_PREFIX_DEFAULT + (await sha256Hex(`${policy}:${key.id}`));
    await expect.poll(async () => redis().exists(await windowKey("tasks"), await windowKey("requests"))).toBe(0);
    // …and a permitted request is admitted, spending exactly one.
    const list = await apiFetch("/api/v1/tasks", { key: key.key });
    expect(list.status).toBe(200);
    expect(list.headers.get("ratelimit")).toBe(`"requests";r=${REQUESTS - 1};t=60`);
  });

  it("does not spend tasks on submissions that fail validation; admitted ones count exactly", async () => {
    const pool = uniquePool();
    for (let i = 0; i < 2 * TASKS; i++) {
      const res = await apiFetch("/api/v1/tasks", { json: { ...taskSpec({ pool }), cli: "" } });
      expect(res.headers.get("ratelimit")).toMatch(new RegExp(`^"tasks";r=${TASKS};t=0, `));
      await expectError(res, 400, "validation_failed");
    }
    for (let i = 0; i < TASKS; i++) {
      const res = await apiFetch("/api/v1/tasks", { json: taskSpec({ pool }) });
      expect(res.status, await res.clone().text()).toBe(201);
      expect(res.headers.get("ratelimit")).toBe(`"tasks";r=${TASKS - 1 - i};t=60, "requests";r=${REQUESTS - 1 - i};t=60`);
    }
    await expectError(await apiFetch("/api/v1/tasks", { json: taskSpec({ pool }) }), 429, "rate_limited");
  });

  it("gives back a stream connection the route refuses, but not one it upgrades", async () => {
    const missing = "tsk_0000000000aaaaaaaaaaaaaaaa";
    for (let i = 0; i < STREAMS + 2; i++) {
      const res = await apiFetch(`/api/v1/tasks/${missing}/stream`, { headers: fromIp("192.0.2.50", { upgrade: "websocket" }) });
      expect(res.headers.get("ratelimit")).toBe(`"streams";r=${STREAMS};t=0, "requests";r=${REQUESTS};t=0`);
      await expectError(res, 404, "not_found");
    }
    // A task each (a task takes only a few watchers): only the per-IP limit can refuse.
    const ids: string[] = [];
    for (let i = 0; i < STREAMS; i++) ids.push(((await (await createFrom("192.0.2.51")).json()) as { id: string }).id);
    const sockets: WebSocket[] = [];
    for (const id of ids) {
      const res = await apiFetch(`/api/v1/tasks/${id}/stream`, { headers: fromIp("192.0.2.50", { upgrade: "websocket" }) });
      expect(res.status).toBe(101);
      res.webSocket!.accept();
      sockets.push(res.webSocket!);
    }
    await expectError(await apiFetch(`/api/v1/tasks/${ids[0]}/stream`, { headers: fromIp("192.0.2.50", { upgrade: "websocket" }) }), 429, "rate_limited");
    for (const ws of sockets) ws.close(1000, "done");
  });

  it("writes no raw API key or IP into Redis, and no key without a TTL", async () => {
    await createFrom("198.51.100.77");
    await apiFetch("/api/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa", { key: "wrong-key-0123456789", headers: fromIp("198.51.100.78") });
    const keys = await scanAll(redis());
    expect(keys.length).toBeGreaterThanOrEqual(4); // requests, tasks, two auth-failure logs
    for (const key of keys) {
      for (const secret of [TEST_ADMIN_KEY, "wrong-key-0123456789", "198.51.100.77", "198.51.100.78", "admin"]) expect(key).not.toContain(secret);
      expect(await redis().pttl(key)).toBeGreaterThan(0);
    }
  });
});
