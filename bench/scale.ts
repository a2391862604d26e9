/**
 * `npm run bench:scale` (and the last part of `npm run bench`): thousands of tasks through one
 * local edge, every one accounted for.
 *
 *  1. Submit: `SCALE_TASKS` tasks (default 10,000) through `POST /api/v1/tasks` over
 *     `SCALE_CONNECTIONS` connections (default 4) while the runners below already drain them:
 *     submit rate, p50/p99, errors.
 *  2. Drain: `SCALE_RUNNERS` protocol-runner processes (default 3, `SCALE_LOOPS` lease loops
 *     each, default 8; see `scale-runner.ts`) lease, heartbeat, post events and complete every
 *     task: drain rate (from the first submission to the last completion), lease polls, requests.
 *
 * Draining while submitting is how a pool runs, and it keeps the number of live task objects in
 * the one local workerd bounded: queued tasks wake every 30 s for their re-offer check, and with
 * ~5,000 of them queued at once a local workerd ran out of SQLite memory (on Cloudflare the
 * objects are spread over machines; the re-offers' cost to the Dispatcher is in docs/scaling.md).
 *  3. Account: every task, paged from `GET /api/v1/tasks` as the submitting key sees them, is
 *     there once and `succeeded`, and the prompts are exactly the ones submitted; a sample is
 *     read whole (`GET /api/v1/tasks/:id`: one attempt, status succeeded).
 *  4. The busiest object: the pool's Dispatcher, whose requests are one enqueue per task (from
 *     the task object), one take per lease poll and one slot release per completion; the run's
 *     counts and times give its request rate.
 *
 * Bounded: the drain stops at `SCALE_DEADLINE_SECONDS` (default 900), reporting what is left.
 * The edge runs with the rate limits out of the way (their cost is in `npm run bench`).
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { newSecret } from "#api/ids.js";
import type { TaskSummary } from "#api/task-queries.js";
import { ApiClient } from "../client/api-client.js";
import { ensureDemoRepo } from "../scripts/demo-repo.js";
import { freePort, PROJECT_ROOT, startEdge, type ManagedProcess } from "../scripts/local-stack.js";
import { runLoad } from "./load.js";
import { ms, printTable } from "./stats.js";

const TASKS = Number(process.env.SCALE_TASKS ?? 10_000);
const RUNNERS = Number(process.env.SCALE_RUNNERS ?? 3);
const LOOPS = Number(process.env.SCALE_LOOPS ?? 8);
const DEADLINE_MS = Number(process.env.SCALE_DEADLINE_SECONDS ?? 900) * 1_000;
const CONNECTIONS = Number(process.env.SCALE_CONNECTIONS ?? 4);
const POOL = "scale";
const PROMPT = "scale task";

interface RunnerCounts {
  completed: number;
  polls: number;
  empty_polls: number;
  requests: number;
  errors: string[];
}

interface ProtocolRunner {
  child: ChildProcess;
  completed: number;
  final: Promise<RunnerCounts>;
}

function startProtocolRunner(edgeUrl: string, secret: string, id: string): ProtocolRunner {
  const child = spawn(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "bench", "scale-runner.ts")], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, SCALE_EDGE_URL: edgeUrl, SCALE_RUNNER_SECRET: secret, SCALE_RUNNER_ID: id, SCALE_POOL: POOL, SCALE_LOOPS: String(LOOPS) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const runner: ProtocolRunner = { child, completed: 0, final: Promise.resolve({} as RunnerCounts) };
  runner.final = new Promise((resolve, reject) => {
    let last: RunnerCounts | null = null;
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const progress = /^completed (\d+)$/.exec(line);
      if (progress) runner.completed = Number(progress[1]);
      else if (line.startsWith("{")) last = JSON.parse(line) as RunnerCounts;
    });
    child.on("exit", (code) => (last ? resolve(last) : reject(new Error(`protocol runner ${id} exited with ${code} and no report`))));
  });
  return runner;
}

async function main(): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), "codeforge-scale-"));
  const adminKey = newSecret("cf_admin");
  const runnerSecret = newSecret("cf_runner");
  const processes: ManagedProcess[] = [];
  const runners: ProtocolRunner[] = [];
  try {
    const edge = await startEdge({
      port: await freePort(),
      stateDir,
      vars: {
        CODEFORGE_ADMIN_KEY: adminKey,
        RUNNER_SECRETS: runnerSecret,
        CODEFORGE_LOCAL_MODE: "true",
        CLIENT_ADDRESS_HEADER: "none",
        RATE_LIMIT_REQUESTS_PER_MINUTE: "100000000",
        RATE_LIMIT_TASKS_PER_MINUTE: "100000000",
      },
    });
    processes.push(edge);
    const admin = new ApiClient({ baseUrl: edge.url, apiKey: adminKey });
    // A key of its own: its list is exactly the tasks of this run.
    const key = await admin.createKey({ name: "scale bench", scopes: ["tasks:read", "tasks:write"] });
    const client = new ApiClient({ baseUrl: edge.url, apiKey: key.key });
    const repoUrl = ensureDemoRepo(join(stateDir, "demo-repo.git"));
    console.log(`CodeForge scale run — ${TASKS} tasks, ${RUNNERS} protocol runners × ${LOOPS} loops, edge under wrangler dev, Node ${process.version}\n`);

    // Runners first: they drain while the tasks come in.
    const drainStarted = performance.now();
    for (let i = 0; i < RUNNERS; i++) runners.push(startProtocolRunner(edge.url, runnerSecret, `scale-runner-${i + 1}`));

    // 1. Submit.
    let n = 0;
    const submit = await runLoad({
      url: `${edge.url}/api/v1/tasks`,
      method: "POST",
      headers: { authorization: `Bearer ${key.key}`, "content-type": "application/json" },
      body: () => JSON.stringify({ repo: { url: repoUrl }, prompt: `${PROMPT} ${n++}`, cli: "demo", pool: POOL }),
      connections: CONNECTIONS,
      durationMs: DEADLINE_MS,
      maxRequests: TASKS,
      expectStatus: 201,
    });
    const submitted = submit.requests - submit.errors;

    // 2. Drain: until every submitted task completed.
    const completed = () => runners.reduce((t, r) => t + r.completed, 0);
    while (completed() < submitted && performance.now() - drainStarted < DEADLINE_MS) await new Promise((r) => setTimeout(r, 250));
    const drainMs = performance.now() - drainStarted;
    for (const r of runners) r.child.kill("SIGTERM");
    const counts = await Promise.all(runners.map((r) => r.final));
    const sum = (pick: (c: RunnerCounts) => number) => counts.reduce((t, c) => t + pick(c), 0);

    // 3. Account for every task, as its submitter lists them (the index may trail by moments).
    let listed: TaskSummary[] = [];
    const accountStarted = performance.now();
    for (let tries = 0; tries < 60; tries++) {
      listed = [];
      for (let cursor: string | undefined; ; ) {
        const page = await client.listTasks({ limit: 200, cursor });
        listed.push(...page.tasks);
        if (!page.next_cursor) break;
        cursor = page.next_cursor;
      }
      if (listed.length >= submitted && listed.every((t) => t.status === "succeeded")) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const listMs = performance.now() - accountStarted;
    const ids = new Set(listed.map((t) => t.id));
    const prompts = new Set(listed.map((t) => t.prompt_excerpt));
    const expectedPrompts = Array.from({ length: n }, (_, i) => `${PROMPT} ${i}`);
    const statuses = new Map<string, number>();
    for (const t of listed) statuses.set(t.status, (statuses.get(t.status) ?? 0) + 1);
    const sample = listed.filter((_, i) => i % Math.max(1, Math.floor(listed.length / 50)) === 0);
    const read = await Promise.all(sample.map((t) => client.getTask(t.id)));
    const sampleOk = read.filter((t) => t.status === "succeeded" && t.attempt === 1).length;

    const seconds = (msValue: number) => `${(msValue / 1000).toFixed(1)} s`;
    console.log(`1. Submit (${CONNECTIONS} connections, runners draining meanwhile)`);
    printTable([
      ["tasks", "time", "tasks/s", "p50", "p99", "errors"],
      [
        String(submitted),
        seconds(submit.elapsedMs),
        submit.requestsPerSecond.toFixed(0),
        ms(submit.latency.p50),
        ms(submit.latency.p99),
        String(submit.errors),
      ],
    ]);
    console.log(`\n2. Drain (${RUNNERS} processes × ${LOOPS} loops: lease, heartbeat, events, complete; from the first submission to the last completion)`);
    printTable([
      ["completed", "time", "tasks/s", "lease polls", "empty polls", "runner requests", "runner errors"],
      [
        String(sum((c) => c.completed)),
        seconds(drainMs),
        (sum((c) => c.completed) / (drainMs / 1000)).toFixed(0),
        String(sum((c) => c.polls)),
        String(sum((c) => c.empty_polls)),
        String(sum((c) => c.requests)),
        String(sum((c) => c.errors.length)),
      ],
    ]);
    for (const c of counts) for (const e of c.errors.slice(0, 3)) console.log(`   runner error: ${e}`);
    console.log("\n3. Accounting (the submitting key's task list, paged; a sample read whole)");
    const missing = expectedPrompts.filter((p) => !prompts.has(p)).length;
    printTable([
      ["listed", "distinct ids", "by status", "prompts missing", "list time", "sample read whole"],
      [
        String(listed.length),
        String(ids.size),
        [...statuses].map(([s, c]) => `${s} ${c}`).join(", "),
        String(missing),
        seconds(listMs),
        `${sampleOk}/${sample.length} succeeded on attempt 1`,
      ],
    ]);
    const accounted = listed.length === submitted && ids.size === submitted && missing === 0 && statuses.get("succeeded") === submitted;
    console.log(
      accounted ? `   every task accounted for: ${submitted} submitted, ${submitted} succeeded, once each` : "   NOT every task accounted for (see above)",
    );

    // 4. The busiest object: the pool's Dispatcher.
    const dispatcherCalls = submitted + sum((c) => c.polls) + sum((c) => c.completed);
    const busiest = dispatcherCalls / (drainMs / 1000);
    console.log(
      `\n4. Busiest object: the "${POOL}" pool's Dispatcher — ${dispatcherCalls} calls (an enqueue per task, a take per lease poll, ` +
        `a release per completion) over the run: ${busiest.toFixed(0)} calls/s on average.`,
    );
    if (!accounted) process.exitCode = 1;
  } finally {
    for (const r of runners) if (r.child.exitCode === null) r.child.kill("SIGKILL");
    await Promise.all(processes.map((p) => p.stop()));
    rmSync(stateDir, { recursive: true, force: true });
  }
}

await main();
