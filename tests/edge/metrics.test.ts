/**
 * Integration: `GET /metrics` through the real Worker, with the real `Metrics` shards, Dispatcher
 * and task objects. The exposition is read with a strict parser (as a scraper would); path labels
 * are route patterns; request counts are global (the sum of the shards every isolate flushes
 * into) and reach them in the background, not on the request's path; task ends come from the
 * task objects, pool gauges from the snapshots Dispatchers push to the registry; the token guards the route; no rate limit does.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Hono } from "hono";
import { HTTP_DURATION_BUCKETS_SECONDS, METRIC_FAMILIES, TASK_DURATION_BUCKETS_SECONDS } from "#api/metrics.js";
import type { Env } from "../../edge/src/env.js";
import { httpMetrics } from "../../edge/src/middleware/http-metrics.js";
import type { PoolGauges } from "../../edge/src/registry/pool-snapshot.js";
import { poolRegistry } from "../../edge/src/registry/pool-registry.js";
import { MetricsBuffer } from "../../edge/src/metrics/metrics-buffer.js";
import { METRICS_SHARDS, metricsShard, metricsShardFor, readMetricShards } from "../../edge/src/metrics/metrics-object.js";
import { histogramSamples, type Sample } from "../../edge/src/metrics/samples.js";
import { apiFetch, createTask, expectError, ORIGIN, uniquePool } from "./api-client.js";
import { TEST_METRICS_TOKEN } from "./credentials.js";
import { parseExposition, metricValue, type Exposition } from "./prometheus-text.js";
import { complete, sampleResult, startRunning, takeLease } from "./runner-client.js";

async function scrapeResponse(token: string | null = TEST_METRICS_TOKEN): Promise<Response> {
  return SELF.fetch(`${ORIGIN}/metrics`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
}

async function scrape(): Promise<Exposition> {
  const res = await scrapeResponse();
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return parseExposition(text);
}

/** Stores a snapshot for `pool` in the registry, as its Dispatcher would push it. */
async function reportSnapshot(pool: string, gauges: PoolGauges): Promise<void> {
  await poolRegistry(env as Env).report(pool, { takenAt: Date.now(), gauges, runners: [] });
}

/** Scrapes until `check` holds (reports from task objects arrive in the background). */
async function scrapeUntil(check: (e: Exposition) => boolean, timeoutMs = 5_000): Promise<Exposition> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const exposition = await scrape();
    if (check(exposition) || Date.now() > deadline) return exposition;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const missingTask = () =>
  `/api/v1/tasks/tsk_0000000000${crypto
    .randomUUID()
    .replace(/-/g, "")
    .slice(0, 16)
    .replace(/[^0-9a-hjkmnp-tv-z]/g, "a")}`;

async function shardValue(index: number, series: Record<string, string>): Promise<number> {
  const samples = await metricsShard(env as Env, index).samples();
  return samples.find((s) => s.name === "codeforge_http_requests_total" && sameLabels(s.labels, series))?.value ?? 0;
}

const sameLabels = (a: Record<string, string>, b: Record<string, string>) =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

async function storedValue(name: string, labels: Record<string, string>): Promise<number> {
  const samples = await readMetricShards(env as Env);
  const hit = samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(Object.entries(labels).sort()));
  return hit?.value ?? 0;
}

describe("GET /metrics", () => {
  it("serves every catalogue family in the Prometheus text format", async () => {
    const res = await scrapeResponse();
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const exposition = parseExposition(await res.text());
    for (const family of METRIC_FAMILIES) {
      expect(exposition.types.get(family.name), family.name).toBe(family.type);
      expect(exposition.help.get(family.name)).toBeTruthy();
    }
    // The global gauges are always present, even with no pool yet.
    for (const gauge of ["codeforge_tasks_in_progress", "codeforge_queue_depth", "codeforge_workers_active", "codeforge_workers_total"]) {
      expect(
        exposition.samples.some((s) => s.name === gauge),
        gauge,
      ).toBe(true);
    }
  });

  it("labels requests with route patterns, never raw ids, and collapses unknown routes into one label", async () => {
    const before = await scrape();
    const first = missingTask();
    await apiFetch(first);
    await apiFetch(missingTask());
    await SELF.fetch(`${ORIGIN}/no/such/route/${crypto.randomUUID()}`);
    await SELF.fetch(`${ORIGIN}/another/${crypto.randomUUID()}`);
    const after = await scrape();

    const byId = { method: "GET", path: "/api/v1/tasks/:id", status: "404" };
    expect(metricValue(after, "codeforge_http_requests_total", byId) - metricValue(before, "codeforge_http_requests_total", byId)).toBe(2);
    const unmatched = { method: "GET", path: "unmatched", status: "404" };
    expect(metricValue(after, "codeforge_http_requests_total", unmatched) - metricValue(before, "codeforge_http_requests_total", unmatched)).toBe(2);
    const paths = new Set(after.samples.filter((s) => s.labels.path !== undefined).map((s) => s.labels.path));
    for (const path of paths) {
      expect(path, "a raw id in a path label").not.toMatch(/tsk_|[0-9a-f]{8}-/);
      expect(path === "unmatched" || path!.startsWith("/"), path).toBe(true);
    }
    // The latency histogram: cumulative buckets ending in +Inf equal to the count.
    const latency = { method: "GET", path: "/api/v1/tasks/:id" };
    const buckets = after.samples.filter(
      (s) => s.name === "codeforge_http_request_duration_seconds_bucket" && s.labels.path === latency.path && s.labels.method === "GET",
    );
    expect(buckets.at(-1)!.labels.le).toBe("+Inf");
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
    expect(buckets.at(-1)!.value).toBe(metricValue(after, "codeforge_http_request_duration_seconds_count", latency));
  });

  it("adds up every isolate's flushes: what another isolate sent shows up next to this one's", async () => {
    const series = { method: "GET", path: "/api/v1/tasks/:id", status: "404" };
    const before = metricValue(await scrape(), "codeforge_http_requests_total", series);
    // Another isolate's flush, exactly as it reaches a shard.
    const elsewhere: Sample[] = [{ name: "codeforge_http_requests_total", labels: series, value: 5 }];
    await metricsShardFor(env as Env).add(elsewhere);
    await apiFetch(missingTask());
    const after = metricValue(await scrape(), "codeforge_http_requests_total", series);
    expect(after - before).toBe(6);
  });

  it("sums every shard exactly, counters and histogram buckets alike, whichever shard took which flush", async () => {
    const labels = { method: "PATCH", path: `/shard-sum/${crypto.randomUUID()}` };
    const count = { ...labels, status: "200" };
    // One observation of 0.02 s and one counter increment in each shard.
    for (let i = 0; i < METRICS_SHARDS; i++) {
      await metricsShard(env as Env, i).add([
        { name: "codeforge_http_requests_total", labels: count, value: 1 },
        ...histogramSamples("codeforge_http_request_duration_seconds", labels, 0.02, HTTP_DURATION_BUCKETS_SECONDS),
      ]);
    }
    const after = await scrape();
    expect(metricValue(after, "codeforge_http_requests_total", count)).toBe(METRICS_SHARDS);
    expect(metricValue(after, "codeforge_http_request_duration_seconds_count", labels)).toBe(METRICS_SHARDS);
    expect(metricValue(after, "codeforge_http_request_duration_seconds_sum", labels)).toBeCloseTo(0.02 * METRICS_SHARDS);
    expect(metricValue(after, "codeforge_http_request_duration_seconds_bucket", { ...labels, le: "0.01" })).toBe(0);
    expect(metricValue(after, "codeforge_http_request_duration_seconds_bucket", { ...labels, le: "+Inf" })).toBe(METRICS_SHARDS);
  });

  it("spreads one isolate's flushes over more than one shard, and the scrape still counts each request once", async () => {
    const series = { method: "GET", path: "/api/v1/tasks/:id", status: "404" };
    await scrape(); // this isolate's pending samples are now in the shards
    const before = await Promise.all(Array.from({ length: METRICS_SHARDS }, (_, i) => shardValue(i, series)));
    const requests = 24;
    for (let i = 0; i < requests; i++) {
      await apiFetch(missingTask());
      await scrape(); // a flush per request
    }
    const after = await Promise.all(Array.from({ length: METRICS_SHARDS }, (_, i) => shardValue(i, series)));
    const grew = after.filter((v, i) => v > before[i]!).length;
    expect(grew, "flushes landed in one shard only").toBeGreaterThan(1);
    expect(after.reduce((a, b) => a + b, 0) - before.reduce((a, b) => a + b, 0)).toBe(requests);
  });

  it("flushes in the background, after the response, without a scrape", async () => {
    const series = { method: "GET", path: "/api/v1/tasks/:id", status: "404" };
    await scrape(); // this isolate's pending samples are now in the shards
    const before = await storedValue("codeforge_http_requests_total", series);
    await apiFetch(missingTask());
    // METRICS_FLUSH_SECONDS is 0.5 here: the request's waitUntil flushes it within about that.
    const deadline = Date.now() + 5_000;
    let now = before;
    while (now === before && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      now = await storedValue("codeforge_http_requests_total", series);
    }
    expect(now).toBe(before + 1);
  });

  it("records a request without calling the metrics object on its path; one flush carries many requests", async () => {
    const sent: Sample[][] = [];
    const pending: Promise<unknown>[] = [];
    const buffer = new MetricsBuffer({ flushIntervalMs: 30, flushAfterRecords: 1_000 });
    const app = new Hono<{ Bindings: Env }>()
      .use(
        "*",
        httpMetrics({
          buffer,
          sink: (e) => async (s) => {
            sent.push(s);
            await metricsShardFor(e).add(s);
          },
        }),
      )
      .get("/things/:id", (c) => c.json({ id: c.req.param("id") }));
    const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p), passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
    for (const id of ["a", "b", "c"]) {
      const res = await app.request(`/things/${id}`, {}, env, ctx);
      expect(res.status).toBe(200);
    }
    expect(sent).toHaveLength(0); // three answered requests, no call made yet
    await Promise.all(pending);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.find((s) => s.name === "codeforge_http_requests_total")).toEqual({
      name: "codeforge_http_requests_total",
      labels: { method: "GET", path: "/things/:id", status: "200" },
      value: 3,
    });
  });

  it("counts a task's end by status and its duration by status and CLI, reported by the task object", async () => {
    const pool = uniquePool();
    const before = await scrape();
    await createTask({ pool });
    const lease = await startRunning(pool);
    expect((await complete(lease.task_id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: sampleResult() })).status).toBe(200);

    const ended = (e: Exposition) => metricValue(e, "codeforge_tasks_total", { status: "succeeded" });
    const after = await scrapeUntil((e) => ended(e) > ended(before));
    expect(ended(after) - ended(before)).toBe(1);
    const labels = { status: "succeeded", cli: "demo" };
    const count = (e: Exposition) => metricValue(e, "codeforge_tasks_duration_seconds_count", labels);
    expect(count(after) - count(before)).toBe(1);
    // It took well under 10 s: it is in the smallest bucket.
    const smallest = (e: Exposition) => metricValue(e, "codeforge_tasks_duration_seconds_bucket", { ...labels, le: String(TASK_DURATION_BUCKETS_SECONDS[0]) });
    expect(smallest(after) - smallest(before)).toBe(1);
  });

  it("reads queue depth, queue age, tasks in progress and runners as the pool's dispatcher pushed them", async () => {
    const pool = uniquePool();
    await createTask({ pool });
    await createTask({ pool });
    await takeLease({ pool, runner_id: "metrics-runner" });
    // The second task and the lease came within the push interval: they reach the registry at its end.
    const after = await scrapeUntil(
      (e) => metricValue(e, "codeforge_pool_queue_depth", { pool }) === 1 && metricValue(e, "codeforge_pool_tasks_in_progress", { pool }) === 1,
    );
    expect(metricValue(after, "codeforge_pool_queue_depth", { pool })).toBe(1);
    expect(metricValue(after, "codeforge_pool_tasks_in_progress", { pool })).toBe(1);
    const age = metricValue(after, "codeforge_pool_oldest_queued_age_seconds", { pool });
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(30);
    // The global gauges are the pools' figures added up, in the same scrape.
    const sum = (name: string) => after.samples.filter((x) => x.name === name).reduce((n, x) => n + x.value, 0);
    expect(metricValue(after, "codeforge_tasks_in_progress")).toBe(sum("codeforge_pool_tasks_in_progress"));
    expect(metricValue(after, "codeforge_queue_depth")).toBe(sum("codeforge_pool_queue_depth"));
    expect(metricValue(after, "codeforge_workers_total")).toBeGreaterThanOrEqual(1);
    expect(metricValue(after, "codeforge_workers_active")).toBeGreaterThanOrEqual(1);
  });

  it("reads every pool's gauges from the registry's snapshots, not from each pool's dispatcher", async () => {
    // Two pools whose Dispatchers never ran: only the registry knows these figures.
    const [a, b] = [uniquePool(), uniquePool()];
    await reportSnapshot(a, { queued: 7, oldestQueuedAgeSeconds: 12, inProgress: 3, runnersTotal: 0, runnersActive: 0 });
    await reportSnapshot(b, { queued: 2, oldestQueuedAgeSeconds: 0, inProgress: 0, runnersTotal: 0, runnersActive: 0 });
    const e = await scrape();
    expect(metricValue(e, "codeforge_pool_queue_depth", { pool: a })).toBe(7);
    expect(metricValue(e, "codeforge_pool_tasks_in_progress", { pool: a })).toBe(3);
    expect(metricValue(e, "codeforge_pool_queue_depth", { pool: b })).toBe(2);
    // The queue's age moves on with the clock after the snapshot was taken.
    expect(metricValue(e, "codeforge_pool_oldest_queued_age_seconds", { pool: a })).toBeGreaterThanOrEqual(12);
  });

  it("lists a pool that has queued tasks and no runner at all: the queue an alert must see", async () => {
    const pool = uniquePool();
    await createTask({ pool });
    const exposition = await scrapeUntil((e) => metricValue(e, "codeforge_pool_queue_depth", { pool }) === 1);
    expect(metricValue(exposition, "codeforge_pool_queue_depth", { pool })).toBe(1);
    expect(metricValue(exposition, "codeforge_pool_tasks_in_progress", { pool })).toBe(0);
  });

  it("asks for the metrics token, with the JSON error envelope", async () => {
    await expectError(await scrapeResponse(null), 401, "unauthorized");
    const wrong = await scrapeResponse("not-the-metrics-token-0123456789");
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Bearer/);
    await expectError(wrong, 401, "unauthorized");
    // An API key is not the metrics token.
    expect((await scrapeResponse("test-admin-key-0123456789abcdef")).status).toBe(401);
    expect((await scrapeResponse()).status).toBe(200);
  });

  it("is neither rate limited nor behind API-key auth", async () => {
    const res = await scrapeResponse();
    expect(res.status).toBe(200);
    expect(res.headers.get("ratelimit-policy")).toBeNull();
    // The API next to it is limited (its policy headers say so); /metrics is not.
    expect((await apiFetch(missingTask())).headers.get("ratelimit-policy")).toContain("requests");
  });

  it("stores only catalogue counters and histograms: gauges, unknown names and bad values are refused", async () => {
    const refused = await metricsShardFor(env as Env).add([
      { name: "codeforge_queue_depth", labels: {}, value: 3 },
      { name: "codeforge_made_up_total", labels: {}, value: 1 },
      { name: "codeforge_tasks_total", labels: { status: "succeeded" }, value: Number.NaN },
      { name: "codeforge_tasks_total", labels: { status: "succeeded" }, value: -1 },
    ]);
    expect(refused).toBe(4);
    const text = await (await scrapeResponse()).text();
    expect(text).not.toContain("codeforge_made_up_total");
  });
});
