/**
 * The `Lease` a runner receives: everything it needs to run one attempt, and the only place a
 * task's secrets — and the CLI session it resumes — leave the task object.
 * @module
 */
import { pushBranchFor } from "#api/branch-name.js";
import type { CliSession, Lease } from "#api/runner-protocol.js";
import type { LifecycleState } from "./lifecycle.js";
import type { TaskSecrets } from "./task-secrets.js";
import type { TaskRecord } from "./task-store.js";

export function leaseFor(
  task: TaskRecord,
  granted: {
    leaseId: string;
    state: LifecycleState;
    heartbeatIntervalMs: number;
    secrets: TaskSecrets | null;
    traceparent: string | null;
    /** What earlier attempts of this iteration spent (see `attempt-usage.ts`). */
    spent: { costUsd: number; tokens: number };
    /** The previous iteration's CLI session, opened (a secret like `secrets`). */
    resume?: CliSession | null;
  },
): Lease {
  const { spec } = task;
  return {
    task_id: task.id,
    lease_id: granted.leaseId,
    attempt: granted.state.attempt,
    lease_expires_at: new Date(granted.state.leaseExpiresAt!).toISOString(),
    traceparent: granted.traceparent,
    heartbeat_interval_ms: granted.heartbeatIntervalMs,
    task: {
      repo: { url: spec.repo.url, ref: spec.repo.ref ?? null },
      iteration: granted.state.iteration,
      base: task.base,
      prompt: spec.prompt,
      cli: spec.cli,
      model: spec.model ?? null,
      timeout_seconds: spec.timeout_seconds,
      stall_timeout_seconds: spec.stall_timeout_seconds ?? null,
      access_token: granted.secrets?.access_token ?? null,
      env: granted.secrets?.env ?? {},
      // Specs stored before pushing existed have no `push`: they never push.
      push: spec.push ? { branch: pushBranchFor(task.id, spec.branch) } : null,
      // Specs stored before sandboxes have neither: full autonomy, the pool's egress policy.
      autonomy: spec.autonomy ?? "full",
      egress_allow: spec.egress_allow ?? null,
      setup: spec.setup ?? null,
      budget: {
        max_cost_usd: spec.max_cost_usd ?? null,
        max_tokens: spec.max_tokens ?? null,
        max_turns: spec.max_turns ?? null,
        spent_cost_usd: granted.spent.costUsd,
        spent_tokens: granted.spent.tokens,
      },
      resume: granted.resume ?? null,
    },
  };
}
