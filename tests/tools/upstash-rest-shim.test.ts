/**
 * Integration: the Upstash REST shim, with `@upstash/redis` as its client — as the edge and
 * self-hosters use it — over a real `redis-server`; plus the raw protocol where the client
 * hides it (base64 encoding, errors, auth, the sync token).
 */
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisServerAvailable } from "../../scripts/redis-server.js";
import { startUpstashStack, type UpstashStack } from "../support/upstash-stack.js";

let stack: UpstashStack;
beforeAll(async () => {
  if (!redisServerAvailable()) throw new Error("redis-server is not installed (apt-get install redis-server; .ci/run does it)");
  stack = await startUpstashStack();
});
afterAll(async () => {
  await stack?.stop();
});

const client = (options: { responseEncoding?: false } = {}) => new Redis({ url: stack.url, token: stack.token, retry: false, ...options });
const raw = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(stack.url + path, { method: "POST", headers: { authorization: `Bearer ${stack.token}`, ...headers }, body: JSON.stringify(body) });

describe("upstash REST shim", () => {
  it("runs single commands for @upstash/redis, base64 and UTF-8 alike", async () => {
    for (const redis of [client(), client({ responseEncoding: false })]) {
      expect(await redis.set("greeting", "héllo ✓")).toBe("OK");
      expect(await redis.get("greeting")).toBe("héllo ✓");
      expect(await redis.set("json", { a: [1, 2] })).toBe("OK");
      expect(await redis.get("json")).toEqual({ a: [1, 2] });
      expect(await redis.incr("counter")).toBeGreaterThan(0);
      expect(await redis.get("missing")).toBeNull();
      await redis.zadd("z", { score: 2, member: "b" }, { score: 1, member: "a" });
      expect(await redis.zrange("z", 0, -1, { withScores: true })).toEqual(["a", 1, "b", 2]);
    }
  });

  it("runs pipelines and MULTI/EXEC transactions, errors per command", async () => {
    const redis = client();
    const pipe = redis.pipeline();
    pipe.set("p", "1");
    pipe.incr("p");
    pipe.incr("greeting"); // not an integer
    const results = await pipe.exec({ keepErrors: true });
    expect(results.map((r) => r.result)).toEqual(["OK", 2, undefined]);
    expect(results[2]!.error).toMatch(/not an integer/);

    const tx = redis.multi();
    tx.set("t", "a");
    tx.append("t", "b");
    tx.get("t");
    expect(await tx.exec()).toEqual(["OK", 2, "ab"]);
  });

  it("runs Lua with EVALSHA and reports NOSCRIPT for an unknown script", async () => {
    const redis = client();
    const sha = await redis.scriptLoad("return {KEYS[1], ARGV[1]}");
    expect(await redis.evalsha(sha, ["k"], ["v"])).toEqual(["k", "v"]);
    await expect(redis.evalsha("0".repeat(40), [], [])).rejects.toThrow(/NOSCRIPT/);
  });

  it("speaks the wire protocol: base64 on request, OK untouched, a sync token, 400 errors", async () => {
    await raw("/", ["SET", "w", "hi"]);
    const encoded = await raw("/", ["GET", "w"], { "upstash-encoding": "base64" });
    expect(await encoded.json()).toEqual({ result: Buffer.from("hi").toString("base64") });
    expect(Number(encoded.headers.get("upstash-sync-token"))).toBeGreaterThan(0);
    expect(await (await raw("/", ["SET", "w", "hi"], { "upstash-encoding": "base64" })).json()).toEqual({ result: "OK" });
    expect(await (await raw("/", ["GET", "w"])).json()).toEqual({ result: "hi" });

    const bad = await raw("/", ["NOSUCHCOMMAND"]);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/unknown command/i);
    expect((await raw("/", { not: "a command" })).status).toBe(400);
    expect((await raw("/", ["SUBSCRIBE", "c"])).status).toBe(400);
    expect((await raw("/nope", ["PING"])).status).toBe(404);
  });

  it("refuses a wrong or missing token with 401", async () => {
    const wrong = await fetch(stack.url, { method: "POST", headers: { authorization: "Bearer nope" }, body: '["PING"]' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: "Unauthorized" });
    expect((await fetch(stack.url, { method: "POST", body: '["PING"]' })).status).toBe(401);
    await expect(new Redis({ url: stack.url, token: "wrong", retry: false }).get("x")).rejects.toThrow(/Unauthorized/);
  });
});
