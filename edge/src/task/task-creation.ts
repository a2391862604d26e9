/**
 * Creating the task: sealing its secrets, storing it queued with its first iteration and first
 * event in one transaction (one commit, schema included for a new object), and offering it to
 * its dispatcher — or, for a retry with the same Idempotency-Key and body, giving back the task
 * it created (a different body under the key is a conflict). The task index hears of it through
 * the task's outbox (`index-outbox.ts`) after the commit, off the request's path. Runs as the
 * `TaskObject.create` span in the task's trace.
 * @module
 */
import type { Task } from "#api/task.js";
import { inTaskTrace } from "../tracing/task-span.js";
import { migrate } from "../sql/migrations.js";
import { saveTraceparent } from "../webhooks/delivery-store.js";
import { lastSeq } from "./event-log.js";
import { insertIteration } from "./iteration-store.js";
import * as lifecycle from "./lifecycle.js";
import { TASK_BASELINE, TASK_MIGRATIONS } from "./schema.js";
import { secretBox } from "./secret-box.js";
import type { StatusRecorder } from "./status-recorder.js";
import type { TaskHost } from "./task-host.js";
import type { TaskIndexReporter } from "./task-index-reporter.js";
import { presentTask } from "./task-presenter.js";
import type { CreateInput, Outcome } from "./task-rpc.js";
import { sealSecrets, summarize } from "./task-secrets.js";
import { insertTask, loadTask } from "./task-store.js";

/** Creates the task, or returns it again for the same idempotency key and body. */
export function createTask(
  host: TaskHost,
  parts: { recorder: StatusRecorder; index: TaskIndexReporter },
  input: CreateInput,
): Promise<Outcome<{ created: boolean; task: Task }>> {
  return inTaskTrace(input.traceparent ?? null, "TaskObject.create", () => createInTrace(host, parts, input), {
    attributes: { "codeforge.task_id": input.id },
  });
}

async function createInTrace(
  host: TaskHost,
  { recorder, index }: { recorder: StatusRecorder; index: TaskIndexReporter },
  input: CreateInput,
): Promise<Outcome<{ created: boolean; task: Task }>> {
  const { sql, config } = host;
  let effects: readonly lifecycle.Effect[] = [];
  let sealedSecrets: string | null = null;
  if (input.secrets) {
    if (config.taskSecretsKey === null) return { ok: false, code: "validation_failed", message: "this edge has no TASK_SECRETS_KEY" };
    sealedSecrets = await sealSecrets(await secretBox(config.taskSecretsKey), input.id, input.secrets);
  }
  // From here to the writes, no await: a concurrent create of the same id sees this one's row.
  // One transaction: a new object's schema (from the baseline, in one step), the row, the first
  // iteration and the first event, and the reports it owes — one commit, all or nothing.
  const now = Date.now();
  const existing = host.ctx.storage.transactionSync(() => {
    migrate(sql, TASK_MIGRATIONS, TASK_BASELINE);
    const found = loadTask(sql);
    if (found) return found;
    const start = lifecycle.initialState({ maxAttempts: input.spec.max_attempts, timeoutMs: input.spec.timeout_seconds * 1000, now });
    const { secrets: _plain, traceparent, ...row } = input;
    insertTask(sql, { ...row, state: start.state, now, sealedSecrets, secretSummary: summarize(input.secrets) });
    insertIteration(sql, { n: 1, prompt: input.spec.prompt, model: input.spec.model ?? null, createdAt: now, firstSeq: lastSeq(sql) + 1 });
    if (traceparent) saveTraceparent(sql, traceparent);
    // Owes the task index its first report (sent after the commit, in the background; the alarm retries).
    recorder.record(start.state, start.changes, now);
    effects = start.effects;
    return null;
  });
  if (existing) {
    if (existing.owner !== input.owner || existing.requestHash !== input.requestHash) {
      return { ok: false, code: "idempotency_conflict", message: "this Idempotency-Key was used with a different request" };
    }
    // A replay is also a chance to deliver a report the index still lacks (in the background).
    void index.report();
    return { ok: true, value: { created: false, task: await presentTask(host, existing) } };
  }
  // The enqueue stays on the request's path: a runner waiting in a long poll gets the task as
  // soon as it is written, and its answer says why a queued task waits. The index report does not:
  // the creator's next list shows the task once it lands, typically within milliseconds.
  const enqueued = await recorder.carryOut(effects, loadTask(sql)!);
  return { ok: true, value: { created: true, task: await presentTask(host, loadTask(sql)!, enqueued) } };
}
