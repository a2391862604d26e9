/**
 * What tracing costs `POST /api/v1/tasks`: the same Worker under three `wrangler dev`s at once —
 * tracing off (no `OTEL_*` endpoint), sampling 10% and sampling 100%, both exporting OTLP/HTTP
 * JSON to a local receiver in this process — each with its bare `/health` route as the baseline
 * in the same workerd. Tracing is decided per deployment, so off and on cannot share one
 * workerd; instead the modes are measured in interleaved short rounds, so whatever else the
 * machine is doing weighs on all three alike.
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { newSecret } from "#api/ids.js";
import { ensureDemoRepo } from "../scripts/demo-repo.js";
import { freePort, startEdge, type ManagedProcess } from "../scripts/local-stack.js";
import { startOtlpReceiver } from "../tests/support/otlp-receiver.js";
import { runLoad, type LoadResult } from "./load.js";
import { ms, printTable, summarize } from "./stats.js";

interface Mode {
  name: string;
  /** Sampling ratio; null: tracing off. */
  ratio: number | null;
}

const MODES: Mode[] = [
  { name: "tracing off", ratio: null },
  { name: "sampling 10%", ratio: 0.1 },
  { name: "sampling 100%", ratio: 1 },
];

/** Rounds per mode: each mode is measured this many times, in turn with the others. */
const ROUNDS = 4;

interface Running {
  mode: Mode;
  edge: ManagedProcess & { url: string };
  stateDir: string;
  adminKey: string;
  repoUrl: string;
  bare: LoadResult[];
  create: LoadResult[];
  spans: number;
}

/** Pools rounds: requests/s over their total time, percentiles over all their samples. */
function pooled(results: LoadResult[]) {
  const requests = results.reduce((n, r) => n + r.requests, 0);
  const seconds = results.reduce((n, r) => n + r.elapsedMs, 0) / 1000;
  return { rate: requests / seconds, latency: summarize(results.flatMap((r) => r.samples)), errors: results.reduce((n, r) => n + r.errors, 0) };
}

/** Prints the comparison as section `label` of the benchmark. */
export async function tracingCost(label: string, seconds: number): Promise<void> {
  const receiver = await startOtlpReceiver();
  const running: Running[] = [];
  try {
    // One after another: wrangler dev instances starting together race for the inspector port.
    for (const mode of MODES) {
      {
        const stateDir = mkdtempSync(join(tmpdir(), "codeforge-bench-tracing-"));
        const adminKey = newSecret("cf_admin");
        const edge = await startEdge({
          port: await freePort(),
          stateDir,
          vars: {
            CODEFORGE_ADMIN_KEY: adminKey,
            RUNNER_SECRETS: newSecret("cf_runner"),
            CODEFORGE_LOCAL_MODE: "true",
            RATE_LIMIT_REQUESTS_PER_MINUTE: "100000000",
            RATE_LIMIT_TASKS_PER_MINUTE: "100000000",
            ...(mode.ratio === null
              ? {}
              : { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER_ARG: String(mode.ratio), OTEL_SERVICE_NAME: mode.name }),
          },
        });
        running.push({ mode, edge, stateDir, adminKey, repoUrl: ensureDemoRepo(join(stateDir, "demo-repo.git")), bare: [], create: [], spans: 0 });
      }
    }

    let n = 0;
    const loads = (r: Running) => ({
      bare: { url: `${r.edge.url}/health`, method: "GET" as const, connections: 10, expectStatus: 200 },
      create: {
        url: `${r.edge.url}/api/v1/tasks`,
        method: "POST" as const,
        headers: { authorization: `Bearer ${r.adminKey}`, "content-type": "application/json" },
        body: () => JSON.stringify({ repo: { url: r.repoUrl }, prompt: `bench ${n++}`, cli: "demo", pool: "bench-tracing" }),
        connections: 10,
        expectStatus: 201,
      },
    });
    for (const r of running) {
      await runLoad({ ...loads(r).bare, durationMs: 1_000 }); // warm-up
      await runLoad({ ...loads(r).create, durationMs: 1_500 });
    }
    const traced = (r: Running) => receiver.spans().filter((s) => s.service === r.mode.name && s.name === "POST /api/v1/tasks").length;
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // the warm-up's last exports
    for (const r of running) r.spans = -traced(r);
    const roundMs = (seconds * 1_000) / ROUNDS;
    for (let round = 0; round < ROUNDS; round++) {
      for (const r of running) {
        r.bare.push(await runLoad({ ...loads(r).bare, durationMs: roundMs / 2 }));
        r.create.push(await runLoad({ ...loads(r).create, durationMs: roundMs }));
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // the last exports leave after their responses
    for (const r of running) r.spans += traced(r);
  } finally {
    await Promise.all(running.map((r) => r.edge.stop()));
    for (const r of running) rmSync(r.stateDir, { recursive: true, force: true });
    await receiver.close();
  }

  const off = pooled(running[0]!.create);
  const rows = [["mode", "bare req/s", "POST req/s", "p50", "p99", "errors", "POST ÷ off", "POSTs traced"]];
  for (const r of running) {
    const bare = pooled(r.bare);
    const create = pooled(r.create);
    const requests = r.create.reduce((sum, x) => sum + x.requests, 0);
    rows.push([
      r.mode.name,
      bare.rate.toFixed(0),
      create.rate.toFixed(0),
      ms(create.latency.p50),
      ms(create.latency.p99),
      String(create.errors),
      (create.rate / off.rate).toFixed(2),
      r.mode.ratio === null ? "—" : `${r.spans} (${((100 * r.spans) / Math.max(1, requests)).toFixed(0)}%)`,
    ]);
  }
  console.log(`${label}. Cost of tracing on POST /api/v1/tasks, 10 connections, ${seconds} s per mode in ${ROUNDS} interleaved rounds, one workerd per mode`);
  printTable(rows);
  console.log("   POSTs traced: spans of the measured POSTs that reached the local OTLP receiver, and their share\n");
}

// `npm run bench:tracing` runs this section alone.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  tracingCost("Tracing", Number(process.env.BENCH_SECONDS ?? 8)).catch((err: unknown) => {
    console.error(`benchmark failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exitCode = 1;
  });
}
