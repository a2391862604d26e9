/**
 * Helpers for the follow-up suites (`follow-up-*.test.ts`): send a follow-up
 * (`POST /api/v1/tasks/:id/instructions`), and run a task's current iteration to its end as a
 * runner would.
 */
import { expect } from "vitest";
import type { Lease } from "#api/runner-protocol.js";
import { Task } from "#api/task.js";
import type { FollowUpRequest } from "#api/task-request.js";
import type { TaskResult } from "#api/task-result.js";
import { apiFetch } from "./api-client.js";
import { complete, outputEvents, postEvents, sampleResult, startRunning } from "./runner-client.js";

export const START_SHA = "c".repeat(40);

export function resultWith(overrides: Partial<TaskResult> = {}): TaskResult {
  return { ...sampleResult(), patch: "diff --git a/NOTES.md b/NOTES.md\n+- first\n", base_commit_sha: START_SHA, ...overrides };
}

export function followUp(id: string, json: unknown, options: { key?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  return apiFetch(`/api/v1/tasks/${id}/instructions`, { json, key: options.key, headers: options.headers });
}

export async function followUpOk(id: string, json: Partial<FollowUpRequest> & { prompt: string }): Promise<Task> {
  const res = await followUp(id, json);
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(202);
  return Task.parse(body);
}

/** Runs the task's current iteration to `outcome` as a runner would, with one output batch. */
export async function runIteration(pool: string, outcome: { outcome: "succeeded" | "failed"; result: TaskResult | null }): Promise<Lease> {
  const lease = await startRunning(pool);
  expect((await postEvents(lease.task_id, lease.lease_id, 1, outputEvents(1, `iteration ${lease.task.iteration}`))).status).toBe(200);
  const res = await complete(lease.task_id, lease.lease_id, { ...outcome, last_batch_seq: 1 });
  expect(res.status, await res.clone().text()).toBe(200);
  return lease;
}
