/**
 * How a stored task is shown to clients (`Task` in the contract). Secrets never appear here.
 * @module
 */
import { pushBranchFor } from "#api/branch-name.js";
import type { Task } from "#api/task.js";
import { DEFAULT_WEBHOOK_EVENTS } from "#api/webhook-event-types.js";
import { iterationView, type IterationRecord } from "./iteration-store.js";
import type { TaskRecord } from "./task-store.js";

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function taskLinks(id: string): Task["links"] {
  const self = `/api/v1/tasks/${id}`;
  return {
    self,
    events: `${self}/events`,
    stream: `${self}/stream`,
    cancel: `${self}/cancel`,
    deliveries: `${self}/deliveries`,
    instructions: `${self}/instructions`,
  };
}

/**
 * The client's view; `iterations` is every iteration's row, oldest first (the last is the
 * current one); `waitingReason` is asked of the dispatcher by the caller while queued.
 */
export function toTaskView(record: TaskRecord, lastSeq: number, iterations: readonly IterationRecord[], waitingReason: string | null = null): Task {
  const { spec, state } = record;
  return {
    id: record.id,
    status: state.status,
    iteration: state.iteration,
    iterations: iterations.map((it) => iterationView(it, it.n === state.iteration ? { state, result: record.result } : null)),
    repo: { url: spec.repo.url, ref: spec.repo.ref ?? null },
    prompt: spec.prompt,
    cli: spec.cli,
    model: spec.model ?? null,
    timeout_seconds: spec.timeout_seconds,
    priority: spec.priority,
    pool: spec.pool,
    labels: spec.labels,
    max_attempts: spec.max_attempts,
    stall_timeout_seconds: spec.stall_timeout_seconds ?? null,
    // Specs stored before sandboxes have neither: full autonomy, the pool's egress policy.
    autonomy: spec.autonomy ?? "full",
    egress_allow: spec.egress_allow ?? null,
    setup: spec.setup ?? null,
    max_cost_usd: spec.max_cost_usd ?? null,
    max_tokens: spec.max_tokens ?? null,
    max_turns: spec.max_turns ?? null,
    has_access_token: record.secretSummary.hasAccessToken,
    env_names: record.secretSummary.envNames,
    metadata: spec.metadata ?? {},
    push: spec.push === true,
    branch: spec.push ? pushBranchFor(record.id, spec.branch) : null,
    callback_url: spec.callback_url ?? null,
    callback_events: spec.callback_url === undefined ? [] : [...(spec.callback_events ?? DEFAULT_WEBHOOK_EVENTS)],
    attempt: state.attempt,
    runner_id: state.runnerId,
    cancel_requested: state.cancelRequestedAt !== null,
    created_at: iso(record.createdAt)!,
    updated_at: iso(record.updatedAt)!,
    started_at: iso(state.startedAt),
    finished_at: iso(state.finishedAt),
    result: record.result,
    error: state.error,
    waiting_reason: state.status === "queued" ? waitingReason : null,
    last_seq: lastSeq,
    links: taskLinks(record.id),
  };
}
