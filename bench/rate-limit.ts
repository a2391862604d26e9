/**
 * `npm run bench` (second part): the rate limiter's figures, measured in one run.
 *
 *  1. Decisions per second and p50/p99 of CodeForge's Upstash limiter (one Lua round trip,
 *     exact sliding-window log) next to `@upstash/ratelimit`'s `slidingWindow` (two fixed
 *     windows weighted), both through `@upstash/redis` → the Upstash REST shim → a local
 *     `redis-server`, same Redis, same client settings.
 *  2. Over-admission in a burst across a window boundary: N requests just before a fixed
 *     window ends, then N more at ¼, ½ and ¾ of the next window — all within one window's
 *     length of the first burst, so an exact limiter admits N in total.
 *  3. The cost of limiting on `POST /api/v1/tasks` in the default (Durable Object) setup:
 *     two edges under `wrangler dev`, one with `RATE_LIMIT_ENABLED=false`, same load.
 *
 * BENCH_SECONDS sets the measuring time (default 8 s per HTTP route, 4 s per limiter).
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis";
import { newSecret } from "#api/ids.js";
import { upstashLimiter } from "../edge/src/rate-limit/upstash-limiter.js";
import { ensureDemoRepo } from "../scripts/demo-repo.js";
import { freePort, startEdge, type ManagedProcess } from "../scripts/local-stack.js";
import { startUpstashStack, type UpstashStack } from "../tests/support/upstash-stack.js";
import { runLoad } from "./load.js";
import { ms, printTable, summarize } from "./stats.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
const limiterSeconds = Math.max(2, seconds / 2);
const CONCURRENCY = 10;
const stateDir = mkdtempSync(join(tmpdir(), "codeforge-bench-rl-"));
const processes: ManagedProcess[] = [];
let upstash: UpstashStack | undefined;

type Decide = (key: string) => Promise<boolean>;

async function main(): Promise<void> {
  upstash = await startUpstashStack();
  const redis = () => new Redis({ url: upstash!.url, token: upstash!.token, enableAutoPipelining: false, retry: false });
  console.log(`CodeForge rate-limit benchmark — redis-server ${upstash.redis.url} behind the Upstash REST shim, Node ${process.version}\n`);

  const ours = (limit: number, windowMs: number): Decide => {
    const limiter = upstashLimiter({ redis: redis() as never, prefix: `bench:${crypto.randomUUID()}:` });
    return async (key) => (await limiter.limit(key, { limit, windowMs })).allowed;
  };
  const theirs = (limit: number, windowMs: number): Decide => {
    const ratelimit = new Ratelimit({
      redis: redis(),
      limiter: Ratelimit.slidingWindow(limit, `${windowMs} ms`),
      prefix: `bench:${crypto.randomUUID()}`,
      ephemeralCache: false,
    });
    return async (key) => (await ratelimit.limit(key)).success;
  };

  await throughput(ours, theirs);
  await boundaryBurst(ours, theirs);
  await routeCost();
}

async function measure(decide: Decide): Promise<{ perSecond: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  const deadline = performance.now() + limiterSeconds * 1_000;
  let n = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await decide(`client-${n++ % 1_000}`); // 1,000 clients: real keys, mostly admitted
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const s = summarize(latencies);
  return { perSecond: latencies.length / ((performance.now() - started) / 1_000), p50: s.p50, p99: s.p99 };
}

async function throughput(ours: (l: number, w: number) => Decide, theirs: (l: number, w: number) => Decide): Promise<void> {
  await measure(ours(600, 60_000)); // warm-up: connections, script caches
  await measure(theirs(600, 60_000));
  // Interleaved, two rounds each, so a busy moment on the machine does not favour one side.
  const runs = { ours: [] as Awaited<ReturnType<typeof measure>>[], theirs: [] as Awaited<ReturnType<typeof measure>>[] };
  for (let round = 0; round < 2; round++) {
    runs.ours.push(await measure(ours(600, 60_000)));
    runs.theirs.push(await measure(theirs(600, 60_000)));
  }
  const mean = (xs: Awaited<ReturnType<typeof measure>>[]) => ({
    perSecond: xs.reduce((t, x) => t + x.perSecond, 0) / xs.length,
    p50: xs.reduce((t, x) => t + x.p50, 0) / xs.length,
    p99: xs.reduce((t, x) => t + x.p99, 0) / xs.length,
  });
  const a = mean(runs.ours);
  const b = mean(runs.theirs);
  console.log(`1. Limiter decisions, ${CONCURRENCY} in flight, 2 interleaved runs of ${limiterSeconds} s each (mean), 600/min over 1,000 keys`);
  printTable([
    ["limiter", "decisions/s", "p50", "p99"],
    ["CodeForge upstashLimiter (exact log, 1 EVALSHA)", a.perSecond.toFixed(0), ms(a.p50), ms(a.p99)],
    ["@upstash/ratelimit slidingWindow (approximate)", b.perSecond.toFixed(0), ms(b.p50), ms(b.p99)],
  ]);
  console.log();
}

async function boundaryBurst(ours: (l: number, w: number) => Decide, theirs: (l: number, w: number) => Decide): Promise<void> {
  const N = 10;
  const W = 2_000;
  const rounds = 3;
  const totals = { ours: [] as number[], theirs: [] as number[] };
  for (let round = 0; round < rounds; round++) {
    const limiters = { ours: ours(N, W), theirs: theirs(N, W) };
    const key = `burst-${round}`;
    const burst = async (decide: Decide) => (await Promise.all(Array.from({ length: N }, () => decide(key)))).filter(Boolean).length;
    // Just before a fixed window ends (@upstash/ratelimit aligns windows to multiples of W).
    const boundary = Math.ceil((Date.now() + 200) / W) * W;
    await sleepUntil(boundary - 100);
    const admitted = { ours: await burst(limiters.ours), theirs: await burst(limiters.theirs) };
    for (const fraction of [0.25, 0.5, 0.75]) {
      await sleepUntil(boundary + fraction * W);
      admitted.ours += await burst(limiters.ours);
      admitted.theirs += await burst(limiters.theirs);
    }
    totals.ours.push(admitted.ours);
    totals.theirs.push(admitted.theirs);
  }
  const fmt = (xs: number[]) => `${xs.join(", ")} (max ${Math.max(...xs)}, ${((Math.max(...xs) / N - 1) * 100).toFixed(0)} % over)`;
  console.log(
    `2. Burst across a window boundary: limit ${N} per ${W / 1_000} s; ${N} at −0.1 s, then ${N} at +¼, +½, +¾ of the next window (all within ${W / 1_000} s), ${rounds} rounds`,
  );
  printTable([
    ["limiter", `admitted per round (a correct limiter: ≤ ${N})`],
    ["CodeForge upstashLimiter", fmt(totals.ours)],
    ["@upstash/ratelimit slidingWindow", fmt(totals.theirs)],
  ]);
  console.log();
}

async function routeCost(): Promise<void> {
  const adminKey = newSecret("cf_admin");
  const vars = { CODEFORGE_ADMIN_KEY: adminKey, RUNNER_SECRETS: newSecret("cf_runner"), CODEFORGE_LOCAL_MODE: "true" };
  const high = "100000000";
  const limited = await startEdge({
    port: await freePort(),
    stateDir: join(stateDir, "limited"),
    vars: { ...vars, RATE_LIMIT_TASKS_PER_MINUTE: high, RATE_LIMIT_REQUESTS_PER_MINUTE: high },
  });
  processes.push(limited);
  const unlimited = await startEdge({ port: await freePort(), stateDir: join(stateDir, "unlimited"), vars: { ...vars, RATE_LIMIT_ENABLED: "false" } });
  processes.push(unlimited);
  const repoUrl = ensureDemoRepo(join(stateDir, "demo-repo.git"));
  let n = 0;
  const body = () => JSON.stringify({ repo: { url: repoUrl }, prompt: `bench ${n++}`, cli: "demo", pool: "bench-rl" });
  const headers = { authorization: `Bearer ${adminKey}`, "content-type": "application/json" };
  const load = (url: string, durationMs: number) =>
    runLoad({ url: `${url}/api/v1/tasks`, method: "POST", headers, body, connections: CONCURRENCY, durationMs, expectStatus: 201 });

  await load(limited.url, 1_500); // warm-up both
  await load(unlimited.url, 1_500);
  // Interleaved halves, so load from elsewhere on the machine falls on both sides alike.
  const halves = [
    await load(unlimited.url, seconds * 500),
    await load(limited.url, seconds * 500),
    await load(unlimited.url, seconds * 500),
    await load(limited.url, seconds * 500),
  ];
  const merge = (a: (typeof halves)[0], b: (typeof halves)[0]) => ({
    requestsPerSecond: (a.requestsPerSecond + b.requestsPerSecond) / 2,
    errors: a.errors + b.errors,
    latency: { p50: (a.latency.p50 + b.latency.p50) / 2, p99: (a.latency.p99 + b.latency.p99) / 2 },
  });
  const off = merge(halves[0]!, halves[2]!);
  const on = merge(halves[1]!, halves[3]!);
  console.log(`3. POST /api/v1/tasks, Durable Object limiter (requests + tasks policies, auth-failure peek), ${CONCURRENCY} connections, ${seconds} s each`);
  printTable([
    ["edge", "req/s", "p50", "p99", "errors"],
    ["RATE_LIMIT_ENABLED=false", off.requestsPerSecond.toFixed(0), ms(off.latency.p50), ms(off.latency.p99), String(off.errors)],
    ["limits on (never reached)", on.requestsPerSecond.toFixed(0), ms(on.latency.p50), ms(on.latency.p99), String(on.errors)],
  ]);
  console.log(
    `   cost of limiting: ${(100 * (1 - on.requestsPerSecond / off.requestsPerSecond)).toFixed(0)} % of throughput, ${(on.latency.p50 - off.latency.p50).toFixed(1)} ms at p50\n`,
  );
}

async function sleepUntil(at: number): Promise<void> {
  const wait = at - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

async function cleanup(): Promise<void> {
  await Promise.all(processes.map((p) => p.stop()));
  await upstash?.stop();
  rmSync(stateDir, { recursive: true, force: true });
}

main()
  .then(cleanup)
  .catch(async (err) => {
    console.error(err);
    await cleanup();
    process.exit(1);
  });
