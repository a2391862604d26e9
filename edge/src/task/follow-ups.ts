/**
 * A follow-up: iteration n+1 of an ended task, queued for any free runner, starting from what
 * the last iteration left (see iteration-base.ts). The ended iteration's outcome moves to its
 * `iterations` row; the task row starts over for the new one. A retry under the same
 * Idempotency-Key gives back the task; a different follow-up under it is a conflict.
 * @module
 */
import { ITERATIONS_MAX } from "#api/limits.js";
import type { IterationBase } from "#api/runner-protocol.js";
import type { Task } from "#api/task.js";
import { lastSeq } from "./event-log.js";
import { nextIterationBase } from "./iteration-base.js";
import { closeIteration, insertIteration, iterationByIdempotencyKey, latestResult, listIterations } from "./iteration-store.js";
import * as lifecycle from "./lifecycle.js";
import { secretBox } from "./secret-box.js";
import type { StatusRecorder } from "./status-recorder.js";
import type { TaskHost } from "./task-host.js";
import { presentTask } from "./task-presenter.js";
import { notFound, type FollowUpInput, type Outcome, type Refusal, type Viewer } from "./task-rpc.js";
import { followUpSecretsProblem, sealSecrets, summarize, type PublicTaskSpec } from "./task-secrets.js";
import { loadTask, startIteration, type TaskRecord } from "./task-store.js";

export async function followUp(
  host: TaskHost,
  recorder: StatusRecorder,
  viewer: Viewer,
  input: FollowUpInput,
): Promise<Outcome<{ created: boolean; task: Task }>> {
  const { sql, config } = host;
  const before = host.visible(viewer);
  if (!before) return notFound;
  const earlier = earlierFollowUp(host, input);
  if (earlier) return earlier === "replay" ? { ok: true, value: { created: false, task: await presentTask(host, before) } } : earlier;
  if (input.spendRefusal) return { ok: false, ...input.spendRefusal };
  const firstCheck = decideFollowUp(host, before, input, Date.now());
  if (!firstCheck.ok) return firstCheck;
  if (input.maxQueued !== undefined && !(await host.dispatcher(before).admit({ taskId: before.id, keyId: before.owner, maxQueued: input.maxQueued }))) {
    return {
      ok: false,
      code: "rate_limited",
      message: `this API key already has ${input.maxQueued} tasks queued in pool '${before.spec.pool}' (its max_queued_tasks); wait for some to start`,
    };
  }
  let sealedSecrets: string | null = null;
  if (input.secrets) {
    if (config.taskSecretsKey === null) return { ok: false, code: "validation_failed", message: "this edge has no TASK_SECRETS_KEY" };
    sealedSecrets = await sealSecrets(await secretBox(config.taskSecretsKey), before.id, input.secrets);
  }
  // Decided again after the awaits, in the same turn as the writes: a concurrent follow-up
  // (a retry with the same Idempotency-Key among them) may have won meanwhile.
  const task = host.load()!;
  const retried = earlierFollowUp(host, input);
  if (retried) return retried === "replay" ? { ok: true, value: { created: false, task: await presentTask(host, task) } } : retried;
  const now = Date.now();
  const decided = decideFollowUp(host, task, input, now);
  if (!decided.ok) return decided;
  const { decision, base } = decided.value;
  closeIteration(sql, task.state, task.result);
  const spec: PublicTaskSpec = {
    ...task.spec,
    prompt: input.prompt,
    model: input.model ?? task.spec.model,
    timeout_seconds: input.timeoutSeconds ?? task.spec.timeout_seconds,
    stall_timeout_seconds: input.stallTimeoutSeconds ?? task.spec.stall_timeout_seconds,
    max_cost_usd: input.maxCostUsd ?? task.spec.max_cost_usd,
    max_tokens: input.maxTokens ?? task.spec.max_tokens,
    max_turns: input.maxTurns ?? task.spec.max_turns,
  };
  startIteration(sql, { spec, base, sealedSecrets, secretSummary: summarize(input.secrets) });
  const { iteration } = decision.state;
  insertIteration(sql, {
    n: iteration,
    prompt: spec.prompt,
    model: spec.model ?? null,
    createdAt: now,
    firstSeq: lastSeq(sql) + 1,
    idempotencyKey: input.idempotencyKey,
    requestHash: input.requestHash,
  });
  recorder.note(decision.state, { type: "iteration", iteration, prompt: spec.prompt }, now);
  recorder.record(decision.state, decision.changes, now);
  const started = loadTask(sql)!;
  const enqueued = await recorder.carryOut(decision.effects, started);
  return { ok: true, value: { created: true, task: await presentTask(host, loadTask(sql)!, enqueued) } };
}

/** A follow-up this Idempotency-Key already started: "replay" for the same request, else the conflict. */
function earlierFollowUp(host: TaskHost, input: FollowUpInput): "replay" | Refusal | null {
  if (input.idempotencyKey === null) return null;
  const prior = iterationByIdempotencyKey(host.sql, input.idempotencyKey);
  if (!prior) return null;
  if (prior.requestHash === input.requestHash) return "replay";
  return { ok: false, code: "idempotency_conflict", message: "this Idempotency-Key was used with a different follow-up of this task" };
}

/** Whether `task` takes this follow-up now, and where its iteration would start. */
function decideFollowUp(
  host: TaskHost,
  task: TaskRecord,
  input: FollowUpInput,
  now: number,
): Outcome<{ decision: Extract<lifecycle.Decision, { ok: true }>; base: IterationBase | null }> {
  const timeoutSeconds = input.timeoutSeconds ?? task.spec.timeout_seconds;
  const decision = lifecycle.followUp(task.state, {
    maxAttempts: task.spec.max_attempts,
    timeoutMs: timeoutSeconds * 1000,
    iterationsMax: ITERATIONS_MAX,
    now,
  });
  if (!decision.ok) return decision;
  const base = nextIterationBase(latestResult(task.result, listIterations(host.sql)));
  if (!base.ok) return { ok: false, code: base.code, message: base.message };
  const secretsProblem = followUpSecretsProblem(task.secretSummary, input.secrets);
  if (secretsProblem) return { ok: false, code: "validation_failed", ...secretsProblem };
  return { ok: true, value: { decision, base: base.base } };
}
