/**
 * What tracing costs `POST /api/v1/tasks`: the same Worker started three times under
 * `wrangler dev` — tracing off (no `OTEL_*` endpoint), sampling 10% and sampling 100%, both
 * exporting OTLP/HTTP JSON to a local receiver in this process — each measured with the same
 * closed-loop load, next to its own bare `/health` route as the baseline in the same workerd
 * (tracing is decided per deployment, so off and on cannot share one workerd; the bare route
 * shows how much of a difference is the machine rather than tracing).
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { newSecret } from "../api/ids.js";
import { ensureDemoRepo } from "../scripts/demo-repo.js";
import { freePort, startEdge } from "../scripts/local-stack.js";
import { startOtlpReceiver } from "../tests/support/otlp-receiver.js";
import { runLoad } from "./load.js";
import { ms, printTable } from "./stats.js";

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

/** Prints the comparison as section `label` of the benchmark. */
export async function tracingCost(label: string, seconds: number): Promise<void> {
  const receiver = await startOtlpReceiver();
  const rows: string[][] = [["mode", "bare req/s", "POST req/s", "p50", "p99", "errors", "POST ÷ off", "spans exported"]];
  let offRate = NaN;
  try {
    for (const mode of MODES) {
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
          ...(mode.ratio === null ? {} : { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER_ARG: String(mode.ratio) }),
        },
      });
      try {
        const repoUrl = ensureDemoRepo(join(stateDir, "demo-repo.git"));
        const auth = { authorization: `Bearer ${adminKey}`, "content-type": "application/json" };
        let n = 0;
        const body = () => JSON.stringify({ repo: { url: repoUrl }, prompt: `bench ${n++}`, cli: "demo", pool: "bench-tracing" });
        const bare = { url: `${edge.url}/health`, method: "GET" as const, connections: 10, expectStatus: 200 };
        const create = { url: `${edge.url}/api/v1/tasks`, method: "POST" as const, headers: auth, body, connections: 10, expectStatus: 201 };
        await runLoad({ ...bare, durationMs: 1_500 }); // warm-up
        await runLoad({ ...create, durationMs: 1_500 });
        const bareResult = await runLoad({ ...bare, durationMs: seconds * 1_000 });
        const spansBefore = receiver.spans().length;
        const createResult = await runLoad({ ...create, durationMs: seconds * 1_000 });
        await new Promise((r) => setTimeout(r, 500)); // the last exports leave after their responses
        if (mode.ratio === null) offRate = createResult.requestsPerSecond;
        rows.push([
          mode.name,
          bareResult.requestsPerSecond.toFixed(0),
          createResult.requestsPerSecond.toFixed(0),
          ms(createResult.latency.p50),
          ms(createResult.latency.p99),
          String(createResult.errors),
          (createResult.requestsPerSecond / offRate).toFixed(2),
          String(receiver.spans().length - spansBefore),
        ]);
      } finally {
        await edge.stop();
        rmSync(stateDir, { recursive: true, force: true });
      }
    }
  } finally {
    await receiver.close();
  }
  console.log(`${label}. Cost of tracing on POST /api/v1/tasks, 10 connections, ${seconds} s each, one workerd per mode`);
  printTable(rows);
  console.log("   spans exported: every span of the measured POSTs that reached the local OTLP receiver (POST, task object, dispatcher)\n");
}

// `npm run bench:tracing` runs this section alone.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  tracingCost("Tracing", Number(process.env.BENCH_SECONDS ?? 8)).catch((err: unknown) => {
    console.error(`benchmark failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exitCode = 1;
  });
}
