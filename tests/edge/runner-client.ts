/**
 * The runner side of the protocol, signed with `signRequest` exactly as a runner signs, and
 * sent through the real Worker. Helpers return the raw `Response` so tests can assert refusals.
 * @module
 */
import { SELF } from "cloudflare:test";
import { expect } from "vitest";
import { Lease, type LeaseRequest } from "#api/runner-protocol.js";
import { signRequest } from "#api/signing.js";
import type { RunnerEvent } from "#api/stream-events.js";
import type { TaskError, TaskResult } from "#api/task-result.js";
import { ORIGIN } from "./api-client.js";
import { TEST_RUNNER_SECRETS } from "./credentials.js";

/** Signs and posts `body` (JSON unless already a string) to a runner API path. */
export async function runnerPost(
  path: string,
  body: unknown,
  options: { secret?: string; now?: () => number; headers?: Record<string, string> } = {},
): Promise<Response> {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const signed = await signRequest({
    secret: options.secret ?? TEST_RUNNER_SECRETS[0],
    method: "POST",
    pathAndQuery: path,
    body: text,
    now: options.now,
  });
  return SELF.fetch(`${ORIGIN}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...signed, ...options.headers },
    body: text,
  });
}

export type LeaseInput = Partial<LeaseRequest> & { pool: string };

/** Asks for a lease; `wait_ms` defaults to 0 (answer at once). */
export function requestLease(input: LeaseInput): Promise<Response> {
  return runnerPost("/runner/v1/lease", { runner_id: "runner-1", clis: ["demo"], wait_ms: 0, ...input });
}

/** Leases and returns the lease, failing the test unless one was granted. */
export async function takeLease(input: LeaseInput): Promise<Lease> {
  const res = await requestLease(input);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return Lease.parse(JSON.parse(text));
}

export function heartbeat(taskId: string, leaseId: string, phase: "preparing" | "running" = "running"): Promise<Response> {
  return runnerPost(`/runner/v1/tasks/${taskId}/heartbeat`, { lease_id: leaseId, phase });
}

export function postEvents(taskId: string, leaseId: string, batchSeq: number, events: RunnerEvent[]): Promise<Response> {
  return runnerPost(`/runner/v1/tasks/${taskId}/events`, { lease_id: leaseId, batch_seq: batchSeq, events });
}

export function complete(
  taskId: string,
  leaseId: string,
  input: { outcome: "succeeded" | "failed" | "timed_out" | "canceled"; last_batch_seq: number; result?: TaskResult | null; error?: TaskError | null },
): Promise<Response> {
  return runnerPost(`/runner/v1/tasks/${taskId}/complete`, { lease_id: leaseId, result: null, error: null, ...input });
}

/** `count` stdout chunks, numbered so tests can check order and that nothing repeats. */
export function outputEvents(count: number, label = "line"): RunnerEvent[] {
  let offset = 0;
  return Array.from({ length: count }, (_, i) => {
    const text = `${label} ${i + 1}\n`;
    const event: RunnerEvent = { type: "output", stream: "stdout", text, offset };
    offset += text.length;
    return event;
  });
}

/** A plausible result for a run that changed one file. */
export function sampleResult(): TaskResult {
  return {
    exit_code: 0,
    duration_ms: 1_234,
    changed_files: [{ path: "README.md", status: "added" }],
    changed_files_truncated: false,
    diff_stat: { files_changed: 1, insertions: 3, deletions: 0 },
    patch: "diff --git a/README.md b/README.md\n",
    patch_truncated: false,
    final_message: "Added a README.",
    cost_usd: 0.0123,
    usage: { input_tokens: 10, output_tokens: 20, cache_read_input_tokens: 5, cache_creation_input_tokens: null },
    usage_source: "cli",
    model_usage: null,
    cli_reported: { cost_usd: 0.0123, usage: { input_tokens: 10, output_tokens: 20, cache_read_input_tokens: 5, cache_creation_input_tokens: null } },
    patch_masked: false,
    push: null,
    sandbox: "bubblewrap",
  };
}

/** Leases a task in `pool` and sends the first `running` heartbeat, as a runner starting the CLI. */
export async function startRunning(pool: string, runnerId = "runner-1"): Promise<Lease> {
  const lease = await takeLease({ pool, runner_id: runnerId });
  const res = await heartbeat(lease.task_id, lease.lease_id, "running");
  expect(res.status, await res.clone().text()).toBe(200);
  return lease;
}
