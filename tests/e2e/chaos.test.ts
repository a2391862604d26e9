/**
 * Chaos, end to end with every real part: the edge under `wrangler dev` with a 5 s lease TTL,
 * three real runner processes, and a stream of demo tasks (some sleeping, so kills land
 * mid-run). While they run, a random runner is killed with SIGKILL (and restarted, under its
 * own id or a new one) or frozen with SIGSTOP past its lease (a zombie that wakes up later),
 * again and again for a while; then every task must end before a hard deadline.
 *
 * What a user must be able to count on afterwards: every task ended, each succeeded exactly
 * once, with one result from one attempt; and a runner whose lease lapsed is locked out. A
 * probe plays the simplest killed runner (it leases, goes silent, and replays its writes once
 * the task moved on), so refusals are counted deterministically; zombie runners' own refusals
 * are counted from their logs.
 *
 * Bounded and self-stopping: the chaos loop ends after `CHAOS_MS` or when every task ended;
 * the test ends by `DEADLINE_MS`.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Lease } from "#api/runner-protocol.js";
import type { StreamEvent } from "#api/stream-events.js";
import { isTerminal, type Task } from "#api/task.js";
import { createEdgeClient, type EdgeClient } from "../../runner/src/edge-link/edge-client.js";
import { EdgeError } from "../../runner/src/edge-link/edge-error.js";
import { startRunner, type ManagedProcess } from "../../scripts/local-stack.js";
import { startStack, type Stack } from "./local-stack.js";

const TASKS = 36;
const RUNNERS = 3;
/** Every task must have ended by then, chaos included. */
const DEADLINE_MS = 120_000;
/**
 * How long the chaos lasts; then the runners are left alone to finish. Bounded, so a task's
 * attempts are bounded too: on a loaded machine an unbounded storm of kills could exhaust
 * MAX_ATTEMPTS for an unlucky task, which says nothing about exactly-once.
 */
const CHAOS_MS = 35_000;
const LEASE_TTL_SECONDS = 5;
/** Longer than the lease TTL, so a frozen runner's lease lapses while it sleeps. */
const FREEZE_MS = 7_000;
/** Tasks the probe leases and abandons, then replays writes for. */
const PROBE_TASKS = 2;
/** Enough attempts that chaos cannot exhaust them: the test is about exactly-once, not give-up. */
const MAX_ATTEMPTS = 10;
/** The runners' pool: its own, so no other test's tasks or runners mix in. */
const POOL = "chaos";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const between = (min: number, max: number) => min + Math.floor(Math.random() * (max - min));

interface Slot {
  base: string;
  id: string;
  proc: ManagedProcess;
  restarts: number;
  frozen: boolean;
}

let stack: Stack;
const slots: Slot[] = [];
const logFiles = new Set<string>();

beforeAll(async () => {
  stack = await startStack({
    runners: 0,
    vars: { LEASE_TTL_SECONDS: String(LEASE_TTL_SECONDS), HEARTBEAT_INTERVAL_SECONDS: "1" },
  });
}, 90_000);

afterAll(async () => {
  for (const slot of slots) if (slot.frozen) continueGroup(slot);
  await Promise.all(slots.map((s) => s.proc.stop()));
  await stack?.stop();
});

function launch(slot: Pick<Slot, "id">): ManagedProcess {
  const proc = startRunner({
    edgeUrl: stack.edgeUrl,
    secret: stack.runnerSecret,
    runnerId: slot.id,
    stateDir: stack.stateDir,
    concurrency: 2,
    // Short long polls: a killed runner's abandoned poll holds a dispatcher waiter this long.
    // Only the demo CLI: a restarted runner then leases at once, rather than after probing every
    // real CLI on the PATH (Gemini CLI's --version alone takes seconds on a loaded machine), which
    // would leave most attempts to be killed before they start and exhaust MAX_ATTEMPTS.
    env: { CODEFORGE_POOL: POOL, CODEFORGE_LEASE_WAIT_MS: "5000", CODEFORGE_LOG_LEVEL: "info", CODEFORGE_CLIS: "demo" },
  });
  logFiles.add(proc.logFile);
  return proc;
}

function continueGroup(slot: Slot): void {
  slot.frozen = false;
  try {
    process.kill(-slot.proc.child.pid!, "SIGCONT");
  } catch {
    // the group is gone (it was killed while frozen)
  }
}

async function allEvents(taskId: string): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for (let since = 0; ; ) {
    const page = await stack.client.events(taskId, { since, limit: 1_000 });
    events.push(...page.events);
    if (!page.has_more) return events;
    since = page.next_since;
  }
}

/** Sends a write of an abandoned lease; returns the error code the edge answered with. */
async function replay(write: () => Promise<unknown>): Promise<string> {
  try {
    await write();
    return "accepted";
  } catch (err) {
    return err instanceof EdgeError ? `${err.status} ${err.code}` : String(err);
  }
}

describe("chaos: runners killed and frozen at random while tasks run", () => {
  it(
    "ends every task exactly once, and refuses every write of a lapsed lease",
    async () => {
      const started = Date.now();
      const deadline = started + DEADLINE_MS;
      const pool = POOL;

      const submitted: Task[] = [];
      for (let i = 0; i < TASKS; i++) {
        const sleepy = i % 2 === 0 ? " [demo:sleep=1500]" : "";
        submitted.push(
          await stack.client.createTask({
            repo: { url: stack.repoUrl, ref: "main" },
            prompt: `chaos task ${i}${sleepy}`,
            cli: "demo",
            pool,
            timeout_seconds: 60,
            max_attempts: MAX_ATTEMPTS,
          }),
        );
      }

      // The probe: a runner that leases and then dies without a word.
      const probe: EdgeClient = createEdgeClient({ edgeUrl: stack.edgeUrl, secret: stack.runnerSecret, requestTimeoutMs: 10_000 });
      const abandoned: Lease[] = [];
      for (let i = 0; i < PROBE_TASKS; i++) {
        const lease = await probe.lease({ runner_id: "probe-killed", pool, clis: ["demo"], labels: [], wait_ms: 5_000, running: i, capacity: PROBE_TASKS });
        expect(lease).not.toBeNull();
        await probe.heartbeat(lease!.task_id, { lease_id: lease!.lease_id, phase: "running" });
        abandoned.push(lease!);
      }

      for (let i = 0; i < RUNNERS; i++) {
        const base = `chaos-runner-${i + 1}`;
        slots.push({ base, id: base, proc: launch({ id: base }), restarts: 0, frozen: false });
      }

      // Chaos: for CHAOS_MS (or until every task ended), hit a random runner every 1-3 s.
      const finals = new Map<string, Task>();
      let holders = new Set<string>();
      let kills = 0;
      let freezes = 0;
      let done = false;
      const chaos = (async () => {
        await sleep(1_500);
        const chaosEnds = Date.now() + CHAOS_MS;
        while (!done && Date.now() < Math.min(deadline, chaosEnds)) {
          const live = slots.filter((s) => !s.frozen);
          const slot = live[between(0, live.length)];
          if (slot) {
            // Freeze a runner that holds a lease now and then; otherwise kill -9 and restart.
            if (Math.random() < 0.3 && holders.has(slot.id) && live.length > 1) {
              try {
                process.kill(-slot.proc.child.pid!, "SIGSTOP");
              } catch {
                continue; // it exited on its own meanwhile; pick again
              }
              slot.frozen = true;
              freezes++;
              setTimeout(() => slot.frozen && continueGroup(slot), FREEZE_MS);
            } else {
              await slot.proc.stop("SIGKILL");
              kills++;
              await sleep(between(200, 800));
              slot.restarts++;
              // Half the time it comes back under its old id (a restarted pod), half under a new one.
              slot.id = slot.restarts % 2 === 0 ? slot.base : `${slot.base}-r${slot.restarts}`;
              slot.proc = launch(slot);
            }
          }
          await sleep(between(1_000, 3_000));
        }
      })();

      // Watch until every task ended or the deadline passed.
      while (Date.now() < deadline && finals.size < TASKS) {
        const pending = submitted.filter((t) => !finals.has(t.id));
        const now = await Promise.all(pending.map((t) => stack.client.getTask(t.id)));
        holders = new Set(now.flatMap((t) => (t.runner_id && !isTerminal(t.status) ? [t.runner_id] : [])));
        for (const t of now) if (isTerminal(t.status)) finals.set(t.id, t);
        if (finals.size < TASKS) await sleep(1_000);
      }
      done = true;
      await chaos;
      const elapsedMs = Date.now() - started;

      // Zombies wake up; give their heartbeats a moment to hit the edge and be refused.
      for (const slot of slots) if (slot.frozen) continueGroup(slot);
      await sleep(2_500);

      // The probe's late writes, replayed after its tasks moved on to other runners.
      const probeAnswers: string[] = [];
      for (const lease of abandoned) {
        const body = { lease_id: lease.lease_id };
        probeAnswers.push(await replay(() => probe.heartbeat(lease.task_id, { ...body, phase: "running" })));
        probeAnswers.push(
          await replay(() =>
            probe.postEvents(lease.task_id, { ...body, batch_seq: 1, events: [{ type: "log", source: "runner", level: "info", message: "late" }] }),
          ),
        );
        probeAnswers.push(
          await replay(() =>
            probe.complete(lease.task_id, { ...body, outcome: "failed", result: null, error: { code: "cli_failed", message: "late" }, last_batch_seq: 0 }),
          ),
        );
      }
      const zombieRefusals = [...logFiles].reduce((n, file) => n + (readFileSync(file, "utf8").match(/lease is stale/g)?.length ?? 0), 0);

      // Every task ended, within the deadline, and succeeded.
      const stuck = submitted.filter((t) => !finals.has(t.id)).map((t) => t.id);
      expect(stuck, `tasks not ended after ${DEADLINE_MS} ms`).toEqual([]);
      const outcomes = [...finals.values()].map((t) => `${t.status}${t.error ? ` (${t.error.code}: ${t.error.message})` : ""}`);
      expect(outcomes.filter((o) => o !== "succeeded")).toEqual([]);

      // Each exactly once: one terminal status, last; one result, from the final attempt, whose
      // change is the task's own prompt, once.
      for (const [i, task] of submitted.entries()) {
        const final = finals.get(task.id)!;
        const events = await allEvents(task.id);
        const statuses = events.flatMap((e) => (e.type === "status" ? [e.status] : []));
        expect(
          statuses.filter((s) => isTerminal(s)),
          task.id,
        ).toEqual(["succeeded"]);
        expect(statuses.at(-1)).toBe("succeeded");
        const results = events.filter((e) => e.type === "result");
        expect(
          results.map((e) => e.attempt),
          task.id,
        ).toEqual([final.attempt]);
        expect(final.result!.patch.split("\n").filter((line) => line.startsWith("+- chaos task"))).toEqual([`+- chaos task ${i}`]);
      }

      // The killed probe was locked out: every late write refused as stale.
      expect(probeAnswers).toEqual(Array(PROBE_TASKS * 3).fill("409 lease_stale"));
      for (const lease of abandoned) expect(finals.get(lease.task_id)!.attempt).toBeGreaterThan(lease.attempt);

      const attempts = new Map<number, number>();
      for (const t of finals.values()) attempts.set(t.attempt, (attempts.get(t.attempt) ?? 0) + 1);
      const distribution = [...attempts.entries()]
        .sort(([a], [b]) => a - b)
        .map(([a, n]) => `${a}:${n}`)
        .join(" ");
      console.log(
        `chaos: ${TASKS} tasks succeeded in ${(elapsedMs / 1000).toFixed(1)} s; ${kills} kill -9 + restart, ${freezes} freezes; ` +
          `attempts (attempt:tasks) ${distribution}; late writes refused: ${probeAnswers.length} probe, ${zombieRefusals} zombie heartbeats`,
      );
      // Chaos really happened: runners died under running tasks, and tasks were retried.
      expect(kills).toBeGreaterThan(0);
      expect(Math.max(...attempts.keys())).toBeGreaterThan(1);
    },
    DEADLINE_MS + 60_000,
  );
});
