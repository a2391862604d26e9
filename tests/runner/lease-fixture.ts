/**
 * What the lease-loop unit tests share: a lease request, a lease, a logger whose lines can be
 * read back, and a short real wait.
 * @module
 */
import { Writable } from "node:stream";
import { pino } from "pino";
import type { Lease, LeaseRequest } from "#api/index.js";

export const leaseRequest: Omit<LeaseRequest, "running" | "capacity"> = { runner_id: "r1", pool: "default", clis: ["demo"], labels: [], wait_ms: 25_000 };

export function lease(n: number): Lease {
  return {
    task_id: `tsk_${n}`,
    lease_id: `lse_${n}`,
    attempt: 1,
    lease_expires_at: new Date().toISOString(),
    traceparent: null,
    heartbeat_interval_ms: 1_000,
    task: {
      repo: { url: "https://example.com/r.git", ref: null },
      iteration: 1,
      base: null,
      prompt: "p",
      cli: "demo",
      model: null,
      timeout_seconds: 60,
      stall_timeout_seconds: null,
      access_token: null,
      push: null,
      env: {},
      autonomy: "full",
      egress_allow: null,
      setup: null,
      budget: { max_cost_usd: null, max_tokens: null, max_turns: null, spent_cost_usd: 0, spent_tokens: 0 },
      resume: null,
    },
  };
}

export function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { logger: pino({ level: "info" }, stream), lines };
}

export const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));
