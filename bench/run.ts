/**
 * `npm run bench`: CodeForge's figures, measured in one run against one local edge.
 *
 *  1. HTTP: requests/s and p50/p99 of `POST /api/v1/tasks` next to the bare `/health` route
 *     of the same Worker in the same workerd (target: ratio ≥ 0.5).
 *  2. Submit-to-lease: a runner already waiting in a long poll; time from submitting a task to
 *     the runner holding its lease (target: p50 ≤ 15 ms, p99 ≤ 50 ms).
 *  3. Line latency: the demo CLI writes timestamped lines at a low rate (10/s); time until a
 *     WebSocket watcher has each line, with 1 watcher and with 100 (target: p50 ≤ 25 ms), all
 *     connected before the task starts (its pool's runner starts once they are in); and
 *     with 100 watchers at 50 lines/s, to show fan-out under load (target: p50 ≤ 50 ms, p99 ≤ 300 ms).
 *  3c. SSE beside WebSocket: one watcher of each on the same task, a line every 100 ms; how soon
 *     each line reaches each (`sse-figures.ts`).
 *  3b. Fan-out: 1,000 watchers on one task, all connected before it starts, a line every 100 ms
 *     (this bench's edge accepts up to `FANOUT_WATCHERS` watchers per task).
 *  4. Throughput: one task writing 32 MiB as fast as it can; bytes/s seen by a watcher, and
 *     a check that every byte arrived, in order (target: ≥ 5 MB/s, nothing lost).
 *  1b. Request metrics on vs off: `POST /api/v1/tasks` on this edge and on a second one started
 *     with `METRICS_ENABLED=false`, measured in alternating rounds so load on the machine hits
 *     both alike; the metrics middleware adds no round trip, so the two should match.
 *  1c. Storage: `POST /api/v1/tasks` with the Durable Object state on disk and in memory (tmpfs),
 *     alike otherwise: how much of section 1's figure is local SQLite syncing to disk.
 *  5. Tracing: `POST /api/v1/tasks` with tracing off, sampling 10% and sampling 100%, exporting
 *     to a local OTLP receiver (see `tracing-cost.ts`).
 *  6. GitHub App: from a signed `@codeforge` comment to the 202, the 👀 reaction, the task
 *     queued and the reply, beside `POST /api/v1/tasks` and `/health` (see `github-figures.ts`).
 *  7. CLI start-up: `codeforge --version` and `codeforge tasks` (against this edge) from start
 *     to exit, the shipped bundle beside the TypeScript run through tsx (`cli-startup.ts`;
 *     target: `--version` ≤ 200 ms at p50). Run while the edge is idle, before any runner starts.
 *  8. Repository cache: a clone of a ~200 MB repository over HTTPS without the runner's
 *     repository cache, into a cold one and from a warm one (target: warm ≤ 15 % of no cache;
 *     see `repo-cache-figures.ts`).
 *  9. Dependency cache: `npm ci` of a small project against local registries with the runner's
 *     dependency cache cold and warm (`dependency-cache-figures.ts`).
 *
 * Sections 3, 3b and 4 are in `stream-figures.ts`. Set BENCH_SECONDS to change the HTTP measuring
 * time (default 8 s per route), and BENCH_SECTIONS to run only some sections, by their labels
 * above (`BENCH_SECTIONS=1,2`: the create route and submit-to-lease; `BENCH_SECTIONS=3,3b,4`:
 * the stream alone; default every one).
 * @module
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newSecret, newTaskId } from "#api/ids.js";
import { Lease } from "#api/runner-protocol.js";
import { signRequest } from "#api/signing.js";
import { ApiClient } from "../client/api-client.js";
import { ensureDemoRepo } from "../scripts/demo-repo.js";
import { freePort, startEdge, startRunner, type ManagedProcess } from "../scripts/local-stack.js";
import { HTTP_DURATION_BUCKETS_SECONDS } from "#api/metrics.js";
import { MetricsBuffer } from "../edge/src/metrics/metrics-buffer.js";
import { counterSample } from "../edge/src/metrics/samples.js";
import { cliStartup } from "./cli-startup.js";
import { githubLatency } from "./github-figures.js";
import { runLoad } from "./load.js";
import { dependencyCacheFigures } from "./dependency-cache-figures.js";
import { repoCacheFigures } from "./repo-cache-figures.js";
import { tracingCost } from "./tracing-cost.js";
import { ms, printTable, summarize } from "./stats.js";
import { sseVsWebSocket } from "./sse-figures.js";
import { lineLatency, outputThroughput, THROUGHPUT_BYTES } from "./stream-figures.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 8);
/** Watchers section 3b opens on one task; the edge's per-task cap is raised to this for the bench. */
const FANOUT_WATCHERS = 1_000;
const stateDir = mkdtempSync(join(tmpdir(), "codeforge-bench-"));
const adminKey = newSecret("cf_admin");
const runnerSecret = newSecret("cf_runner");
const processes: ManagedProcess[] = [];
/** The sections BENCH_SECTIONS names (`1,2`, `1b`, …); none named: every one. */
const onlySections = (process.env.BENCH_SECTIONS ?? "")
  .split(",")
  .map((s) => s.trim())
  .filter(Boolean);
const runs = (section: string) => onlySections.length === 0 || onlySections.includes(section);
/** A memory-backed file system, for section 1c. */
const MEMORY_FS = "/dev/shm";

async function main(): Promise<void> {
  const edge = await startEdge({
    port: await freePort(),
    stateDir,
    vars: {
      CODEFORGE_ADMIN_KEY: adminKey,
      RUNNER_SECRETS: runnerSecret,
      CODEFORGE_LOCAL_MODE: "true",
      OUTPUT_MAX_BYTES: String(4 * THROUGHPUT_BYTES),
      // Limits stay on (their cost is part of the figures) but are never reached; 100 watchers
      // from one address would otherwise exceed the per-IP stream limit.
      RATE_LIMIT_REQUESTS_PER_MINUTE: "100000000",
      RATE_LIMIT_TASKS_PER_MINUTE: "100000000",
      RATE_LIMIT_STREAMS_PER_MINUTE: "100000000",
      STREAM_MAX_WATCHERS_PER_TASK: String(FANOUT_WATCHERS),
    },
  });
  processes.push(edge);
  const client = new ApiClient({ baseUrl: edge.url, apiKey: adminKey });
  const repoUrl = ensureDemoRepo(join(stateDir, "demo-repo.git"));
  console.log(`CodeForge benchmark — edge under wrangler dev at ${edge.url}, Node ${process.version}\n`);

  if (runs("1")) await httpThroughput(edge.url, repoUrl);
  // Before any runner starts: both edges must be idle but for the load itself.
  if (runs("1b")) await metricsOnVsOff(repoUrl);
  if (runs("1c")) await storageOnDiskVsMemory(repoUrl);
  if (runs("2")) await submitToLease(edge.url, client, repoUrl);
  if (runs("7")) await cliStartup("7", { url: edge.url, adminKey });

  // Sections 3 and 3b start a runner for each task's own pool once its watchers are in; it
  // offers only the demo CLI, so it leases at once instead of first probing every real CLI.
  const poolRunner = (pool: string) => {
    const runner = startRunner({
      edgeUrl: edge.url,
      secret: runnerSecret,
      runnerId: pool,
      stateDir,
      concurrency: 1,
      env: { CODEFORGE_POOL: pool, CODEFORGE_CLIS: "demo" },
    });
    processes.push(runner);
    return runner;
  };
  if (runs("3")) {
    await lineLatency(client, repoUrl, { label: "3", watchers: 1, tickMs: 100, startRunner: poolRunner });
    await lineLatency(client, repoUrl, { label: "3", watchers: 100, tickMs: 100, startRunner: poolRunner });
    // 100 watchers × 50 lines/s: fan-out under load
    await lineLatency(client, repoUrl, { label: "3", watchers: 100, tickMs: 20, startRunner: poolRunner });
  }
  if (runs("3c")) await sseVsWebSocket(client, repoUrl, { label: "3c", tickMs: 100, startRunner: poolRunner });
  if (runs("3b")) await lineLatency(client, repoUrl, { label: "3b", watchers: FANOUT_WATCHERS, tickMs: 100, startRunner: poolRunner });
  if (runs("4")) processes.push(startRunner({ edgeUrl: edge.url, secret: runnerSecret, runnerId: "bench-runner", stateDir, concurrency: 2 }));
  if (runs("4")) await outputThroughput(client, repoUrl);

  // Its own edges, one per mode: stop this one's first, so they do not share the cores with it.
  await Promise.all(processes.splice(0).map((p) => p.stop()));
  if (runs("5")) await tracingCost("5", seconds);
  if (runs("6")) await githubLatency("6", { stateDir, repoUrl, processes });
  if (runs("8")) await repoCacheFigures("8", { stateDir });
  if (runs("9")) await dependencyCacheFigures("9", { stateDir });
}

type Load = Awaited<ReturnType<typeof runLoad>>;

interface EdgeVariant {
  label: string;
  /** Worker vars beyond the common ones. */
  vars?: Record<string, string>;
  /** Where its Durable Object state lives (default: under the bench's state directory). */
  persistTo?: string;
}

/**
 * `POST /api/v1/tasks` on two fresh edges alike but for one thing, measured in ABBA-ordered
 * rounds so that load drifting on the machine hits both alike. Neither carries state from the
 * sections before. Returns the mean requests/s of each.
 */
async function compareEdges(title: string, repoUrl: string, a: EdgeVariant, b: EdgeVariant): Promise<[number, number]> {
  const start = async (name: string, variant: EdgeVariant) =>
    startEdge({
      port: await freePort(),
      stateDir: join(stateDir, name),
      persistTo: variant.persistTo,
      vars: {
        CODEFORGE_ADMIN_KEY: adminKey,
        RUNNER_SECRETS: runnerSecret,
        CODEFORGE_LOCAL_MODE: "true",
        RATE_LIMIT_REQUESTS_PER_MINUTE: "100000000",
        RATE_LIMIT_TASKS_PER_MINUTE: "100000000",
        ...variant.vars,
      },
    });
  const edges = [await start(`${title}-a`, a), await start(`${title}-b`, b)] as const;
  processes.push(...edges);
  const auth = { authorization: `Bearer ${adminKey}`, "content-type": "application/json" };
  let n = 0;
  const body = () => JSON.stringify({ repo: { url: repoUrl }, prompt: `bench ${n++}`, cli: "demo", pool: "bench-compare" });
  const create = (url: string) => ({ url: `${url}/api/v1/tasks`, method: "POST" as const, headers: auth, body, connections: 10, expectStatus: 201 });
  for (const edge of edges) await runLoad({ ...create(edge.url), durationMs: 1_500 }); // warm-up, both alike
  const rounds = 4;
  const results: [Load[], Load[]] = [[], []];
  // a, b, b, a, …: neither side always goes first while the machine's load drifts.
  for (let i = 0; i < rounds; i++) {
    for (const side of i % 2 === 0 ? ([0, 1] as const) : ([1, 0] as const)) {
      results[side].push(await runLoad({ ...create(edges[side].url), durationMs: (seconds * 1_000) / rounds }));
    }
  }
  const rate = (rs: Load[]) => rs.reduce((t, r) => t + r.requestsPerSecond, 0) / rs.length;
  const median = (rs: Load[], pick: (r: Load) => number) => rs.map(pick).sort((x, y) => x - y)[Math.floor(rs.length / 2)]!;
  const row = (variant: EdgeVariant, rs: Load[]) => [
    variant.label,
    rate(rs).toFixed(0),
    ms(median(rs, (r) => r.latency.p50)),
    ms(median(rs, (r) => r.latency.p99)),
    String(rs.reduce((t, r) => t + r.errors, 0)),
  ];
  console.log(`${title}, 10 connections, ${rounds} rounds in ABBA order, ${seconds} s each side`);
  printTable([["edge", "req/s", "p50", "p99", "errors"], row(a, results[0]), row(b, results[1])]);
  for (const edge of edges) {
    await edge.stop();
    processes.splice(processes.indexOf(edge), 1);
  }
  return [rate(results[0]), rate(results[1])];
}

async function metricsOnVsOff(repoUrl: string): Promise<void> {
  const [on, off] = await compareEdges(
    "1b. POST /api/v1/tasks with request metrics on and off",
    repoUrl,
    { label: "on (default)" },
    { label: "off (METRICS_ENABLED=false)", vars: { METRICS_ENABLED: "false" } },
  );
  console.log(`   ratio on ÷ off: ${(on / off).toFixed(2)} (recording is in memory; flushes go in waitUntil every few seconds)`);
  console.log(`   recording one request's samples in memory (what the middleware does on the request's path): ${recordingCostMicros().toFixed(1)} µs\n`);
}

/**
 * Where a local `POST /api/v1/tasks` spends its time: under `wrangler dev` every Durable Object
 * commit is a SQLite file synced to disk on the Worker's thread, and a new task makes a new
 * database. The same edge with its state in memory (tmpfs) shows how much of the figure is that.
 */
async function storageOnDiskVsMemory(repoUrl: string): Promise<void> {
  if (!existsSync(MEMORY_FS)) {
    console.log(`1c. skipped: no ${MEMORY_FS} (tmpfs) on this machine\n`);
    return;
  }
  const inMemory = mkdtempSync(join(MEMORY_FS, "codeforge-bench-"));
  try {
    const [disk, memory] = await compareEdges(
      "1c. POST /api/v1/tasks with Durable Object state on disk and in memory",
      repoUrl,
      { label: "on disk (as wrangler dev runs)" },
      { label: "in memory (tmpfs)", persistTo: inMemory },
    );
    console.log(`   ratio disk ÷ memory: ${(disk / memory).toFixed(2)} (the rest of the gap to the bare route is the work itself)\n`);
  } finally {
    rmSync(inMemory, { recursive: true, force: true });
  }
}

async function httpThroughput(edgeUrl: string, repoUrl: string): Promise<void> {
  const auth = { authorization: `Bearer ${adminKey}`, "content-type": "application/json" };
  // Tasks in a pool no runner serves: this measures the API, not the runners.
  let n = 0;
  const body = () => JSON.stringify({ repo: { url: repoUrl }, prompt: `bench ${n++}`, cli: "demo", pool: "bench-http" });
  const bare = { url: `${edgeUrl}/health`, method: "GET" as const, connections: 10, expectStatus: 200 };
  // The floor under any route that creates a task: waking one new Durable Object per request.
  const fresh = { url: edgeUrl, path: () => `/api/v1/tasks/${newTaskId()}`, headers: auth, method: "GET" as const, connections: 10, expectStatus: 404 };
  const create = { url: `${edgeUrl}/api/v1/tasks`, method: "POST" as const, headers: auth, body, connections: 10, expectStatus: 201 };

  await runLoad({ ...bare, durationMs: 1_500 }); // warm-up
  await runLoad({ ...create, durationMs: 1_500 });
  const bareResult = await runLoad({ ...bare, durationMs: seconds * 1_000 });
  const createResult = await runLoad({ ...create, durationMs: seconds * 1_000 });
  const freshResult = await runLoad({ ...fresh, durationMs: seconds * 1_000 });

  console.log(`1. HTTP, 10 connections, ${seconds} s each`);
  printTable([
    ["route", "req/s", "p50", "p99", "errors"],
    [
      "GET /health (bare Hono route)",
      bareResult.requestsPerSecond.toFixed(0),
      ms(bareResult.latency.p50),
      ms(bareResult.latency.p99),
      String(bareResult.errors),
    ],
    ["POST /api/v1/tasks", createResult.requestsPerSecond.toFixed(0), ms(createResult.latency.p50), ms(createResult.latency.p99), String(createResult.errors)],
    [
      "GET /api/v1/tasks/:unknown (wakes a new object)",
      freshResult.requestsPerSecond.toFixed(0),
      ms(freshResult.latency.p50),
      ms(freshResult.latency.p99),
      String(freshResult.errors),
    ],
  ]);
  console.log(`   ratio POST /api/v1/tasks ÷ bare route: ${(createResult.requestsPerSecond / bareResult.requestsPerSecond).toFixed(2)} (target ≥ 0.5)`);
  console.log(`   ratio POST /api/v1/tasks ÷ waking a new object: ${(createResult.requestsPerSecond / freshResult.requestsPerSecond).toFixed(2)}\n`);
}

/** The middleware's per-request work, measured in this process: a counter and an observation. */
function recordingCostMicros(): number {
  const buffer = new MetricsBuffer({ flushIntervalMs: 5_000, flushAfterRecords: Number.MAX_SAFE_INTEGER });
  const routes = ["/api/v1/tasks", "/api/v1/tasks/:id", "/api/v1/tasks/:id/events", "/runner/v1/tasks/:id/heartbeat"];
  const record = (i: number) => {
    const labels = { method: "POST", path: routes[i % routes.length]! };
    buffer.record(
      [counterSample("codeforge_http_requests_total", { ...labels, status: "201" })],
      [{ name: "codeforge_http_request_duration_seconds", labels, value: (i % 100) / 1_000, buckets: HTTP_DURATION_BUCKETS_SECONDS }],
    );
    buffer.planFlush(0);
  };
  for (let i = 0; i < 5_000; i++) record(i); // warm-up
  const n = 50_000;
  const started = performance.now();
  for (let i = 0; i < n; i++) record(i);
  return ((performance.now() - started) * 1_000) / n;
}

async function signedPost(edgeUrl: string, path: string, body: unknown): Promise<Response> {
  const text = JSON.stringify(body);
  const headers = await signRequest({ secret: runnerSecret, method: "POST", pathAndQuery: path, body: text });
  return fetch(edgeUrl + path, { method: "POST", body: text, headers: { ...headers, "content-type": "application/json" } });
}

async function submitToLease(edgeUrl: string, client: ApiClient, repoUrl: string): Promise<void> {
  const samples: number[] = [];
  const rounds = 100;
  for (let i = 0; i < rounds; i++) {
    const leased = signedPost(edgeUrl, "/runner/v1/lease", { runner_id: "bench-waiter", pool: "bench-lease", clis: ["demo"], wait_ms: 10_000 });
    await new Promise((r) => setTimeout(r, 25)); // let the long poll reach the dispatcher
    const t0 = performance.now();
    const task = await client.createTask({ repo: { url: repoUrl }, prompt: `lease ${i}`, cli: "demo", pool: "bench-lease" });
    const response = await leased;
    const elapsed = performance.now() - t0;
    if (response.status !== 200) throw new Error(`lease answered ${response.status}`);
    const lease = Lease.parse(await response.json());
    if (lease.task_id !== task.id) throw new Error("the waiting runner was handed another task");
    samples.push(elapsed);
    await signedPost(edgeUrl, `/runner/v1/tasks/${lease.task_id}/complete`, {
      lease_id: lease.lease_id,
      outcome: "succeeded",
      result: null,
      error: null,
      last_batch_seq: 0,
    });
  }
  const s = summarize(samples);
  console.log(`2. Submit-to-lease, runner already waiting, ${rounds} rounds (includes the POST itself)`);
  printTable([
    ["p50", "p90", "p99", "max"],
    [ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max)],
  ]);
  console.log("   target p50 ≤ 15 ms, p99 ≤ 50 ms\n");
}

main()
  .catch((err: unknown) => {
    console.error(`benchmark failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    rmSync(stateDir, { recursive: true, force: true });
  });
