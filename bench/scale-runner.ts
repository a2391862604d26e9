/**
 * A protocol runner for `bench/scale.ts`: one process, `SCALE_LOOPS` lease loops, each speaking
 * the runner protocol through the runner's own edge client (lease, a heartbeat, one event batch,
 * complete as succeeded) — without cloning or running a CLI, whose cost the other sections of
 * `npm run bench` measure. So what the scale run loads is the edge alone.
 *
 * It runs until it gets SIGTERM, then prints one JSON line with what it did
 * (`{"completed":n,"polls":n,"empty_polls":n,"requests":n,"errors":[...]}`) and exits.
 * Progress goes to stdout as `completed <n>` lines every second.
 * @module
 */
import { TaskResult } from "#api/task-result.js";
import { createEdgeClient } from "../runner/src/edge-link/edge-client.js";

const edgeUrl = process.env.SCALE_EDGE_URL!;
const secret = process.env.SCALE_RUNNER_SECRET!;
const runnerId = process.env.SCALE_RUNNER_ID ?? `scale-${process.pid}`;
const pool = process.env.SCALE_POOL ?? "default";
const loops = Number(process.env.SCALE_LOOPS ?? 8);

const client = createEdgeClient({ edgeUrl, secret, requestTimeoutMs: 30_000 });
const stopping = new AbortController();
const counts = { completed: 0, polls: 0, empty_polls: 0, requests: 0, errors: [] as string[] };

/** What every task "produces": nothing changed (the input form; the edge fills the defaults). */
const result = TaskResult.parse({
  exit_code: 0,
  duration_ms: 1,
  changed_files: [],
  changed_files_truncated: false,
  diff_stat: { files_changed: 0, insertions: 0, deletions: 0 },
  patch: "",
  patch_truncated: false,
  final_message: "done",
});

async function loop(slot: number): Promise<void> {
  while (!stopping.signal.aborted) {
    try {
      counts.polls++;
      counts.requests++;
      const lease = await client.lease({ runner_id: runnerId, pool, clis: ["demo"], labels: [], wait_ms: 5_000, running: 0, capacity: loops }, stopping.signal);
      if (!lease) {
        counts.empty_polls++;
        continue;
      }
      const body = { lease_id: lease.lease_id };
      await client.heartbeat(lease.task_id, { ...body, phase: "running" });
      await client.postEvents(lease.task_id, {
        ...body,
        batch_seq: 1,
        events: [{ type: "log", source: "runner", level: "info", message: `scale runner ${runnerId}/${slot}` }],
      });
      await client.complete(lease.task_id, { ...body, outcome: "succeeded", result, error: null, last_batch_seq: 1 });
      counts.requests += 3;
      counts.completed++;
    } catch (err) {
      if (stopping.signal.aborted) return;
      if (counts.errors.length < 20) counts.errors.push(String(err));
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

const progress = setInterval(() => console.log(`completed ${counts.completed}`), 1_000);
process.on("SIGTERM", () => stopping.abort());
await Promise.all(Array.from({ length: loops }, (_, i) => loop(i)));
clearInterval(progress);
console.log(JSON.stringify(counts));
