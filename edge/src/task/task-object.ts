/**
 * `TaskObject`: one Durable Object per task. It holds the task's state, its ordered event log
 * and its watchers, and it owns the lease.
 *
 * The class is a thin shell: each method loads the row, asks `lifecycle.ts` what happens,
 * writes the answer, appends status events to the log, broadcasts them, re-arms the single
 * alarm for the earliest deadline, and carries out effects (talking to the dispatcher) last.
 * Every read-modify-write runs without an `await` in the middle, so no other request can
 * interleave with it. Its spans (create, lease, dispatcher calls, webhook attempts) are opened
 * in the task's trace from the stored `traceparent` (see `tracing/task-span.ts`).
 * @module
 */
import { SpanKind } from "@opentelemetry/api";
import { DurableObject } from "cloudflare:workers";
import type { ErrorCode } from "../../../api/errors.js";
import { newLeaseId } from "../../../api/ids.js";
import type { CliSession, Completion, IterationBase, EventBatch, EventBatchAck, Heartbeat, HeartbeatAck, Lease, Release, ReleaseAck, SessionUpload, SessionUploadAck } from "../../../api/runner-protocol.js";
import { sha256Hex } from "../../../api/signing.js";
import type { StatusEvent } from "../../../api/stream-events.js";
import { ITERATIONS_MAX } from "../../../api/limits.js";
import type { Task } from "../../../api/task.js";
import { childTraceparent, newTraceparent } from "../../../api/trace-context.js";
import type { Delivery, DeliveryList } from "../../../api/webhooks.js";
import { isTerminal } from "../../../api/task.js";
import { parseTraceparent } from "../../../api/trace-context.js";
import { recordAudit } from "../audit/audit-record.js";
import type { Enqueued } from "../dispatcher/dispatcher.js";
import { edgeConfig, type EdgeConfig, type Env } from "../env.js";
import { logFor, type Logger } from "../log.js";
import { hasStagedSamples, OUTBOX_RETRY_MS, sendStagedSamples, stageSamples } from "../metrics/metrics-outbox.js";
import { metricsObject } from "../metrics/metrics-object.js";
import { taskEndSamples, webhookAttemptSamples } from "../metrics/task-metrics.js";
import { migrate, tableExists, type Sql } from "../sql/migrations.js";
import { chargeDeadline, lastUsage, recordResultCost, recordUsage, sendOwedCharges, settleEndedAttempts, spentBefore } from "./attempt-usage.js";
import { clearForAttempt, markSessionCompleted, openSession, sealSession, sessionToResume, storeSession } from "./cli-session-store.js";
import { carryOutEffects } from "./dispatcher-effects.js";
import { appendEvent, eventsSince, lastSeq } from "./event-log.js";
import { nextIterationBase } from "./iteration-base.js";
import { closeIteration, insertIteration, iterationByIdempotencyKey, latestResult, listIterations } from "./iteration-store.js";
import { leaseFor } from "./lease-grant.js";
import * as lifecycle from "./lifecycle.js";
import { indexDeadline, markIndexDue, reportToIndex, TASK_INDEX_RETRY_MS } from "./index-outbox.js";
import { admitEvents } from "./output-cap.js";
import { TASK_BASELINE, TASK_MIGRATIONS } from "./schema.js";
import { secretBox } from "./secret-box.js";
import { followUpSecretsProblem, openSecrets, sealSecrets, summarize, type PublicTaskSpec, type TaskSecrets } from "./task-secrets.js";
import { eraseSecrets, insertTask, loadTask, saveOutputUsage, saveResult, saveState, startIteration, type TaskRecord } from "./task-store.js";
import { toTaskView } from "./task-view.js";
import { acceptWatcher, broadcast, closeWatchers, watcherCount } from "./watchers.js";
import type { SpendRefusal } from "../spend/spend-limit.js";
import { spendMeterOf } from "../spend/spend-meter-object.js";
import { taskIndexOf } from "../task-index/task-index-object.js";
import { deadLetterSink } from "../webhooks/dead-letters.js";
import { runDeliveries } from "../webhooks/delivery-engine.js";
import { listDeliveries, loadTraceparent, nextDeliveryDeadline, restartSeries, saveTraceparent } from "../webhooks/delivery-store.js";
import { queueWebhooks } from "../webhooks/webhook-outbox.js";
import { webhookSecretsFor } from "../webhooks/webhook-secrets.js";
import { sendWebhook, type WebhookRequest } from "../webhooks/webhook-sender.js";
import type { AttemptResult } from "../webhooks/delivery-policy.js";
import { inTaskTrace, linkTo } from "../tracing/task-span.js";

/** Result of an RPC call: typed values or a contract error code (and the field at fault), never a thrown error. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string; field?: string };

/** A follow-up as the Worker hands it over: the request without its secrets, and them apart. */
export interface FollowUpInput {
  prompt: string;
  model?: string;
  timeoutSeconds?: number;
  stallTimeoutSeconds?: number;
  /** The new iteration's budget; each one absent keeps the previous iteration's. */
  maxCostUsd?: number;
  maxTokens?: number;
  maxTurns?: number;
  /** Write-only secrets for this iteration, sealed here before anything is stored. */
  secrets: TaskSecrets | null;
  idempotencyKey: string | null;
  /** Fingerprint of the request, to tell a retry from another follow-up under the same key. */
  requestHash: string | null;
  /** The calling key's `max_queued_tasks`, if it has one: the new iteration queues like a new task. */
  maxQueued?: number;
  /** Set when the calling key has reached its monthly spend limit: refused unless a retry. */
  spendRefusal?: SpendRefusal | null;
}

/** Who is asking; a task is visible to its owner and to admins only. */
export interface Viewer {
  owner: string;
  admin: boolean;
}

/** Internal header the Worker uses to tell the object who opens a stream. */
export const VIEWER_HEADER = "x-codeforge-viewer";

const notFound = { ok: false, code: "not_found", message: "task not found" } as const;

/** A busy runner is kept in its pool's runners list through its heartbeats, this often at most. */
const RUNNER_TOUCH_INTERVAL_MS = 30_000;

export class TaskObject extends DurableObject<Env> {
  private readonly sql: Sql;
  private readonly config: EdgeConfig;
  /** When this instance last told the dispatcher its runner is alive; memory only, by design. */
  private runnerTouchedAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.config = edgeConfig(env);
    // Only objects that hold a task get (or upgrade) a schema: probing unknown ids stores nothing.
    if (tableExists(this.sql, "task")) {
      migrate(this.sql, TASK_MIGRATIONS, TASK_BASELINE);
      // A report to the task index overdue (a task older than the index, or one whose alarm
      // was lost): the alarm makes it now, and then re-arms for whatever else is due.
      const due = indexDeadline(this.sql);
      // So is the end of a retention that began before there was one (a task that ended earlier).
      const task = loadTask(this.sql);
      const end = task ? retentionEnd(task.state, this.config.taskRetentionMs) : null;
      if ((due !== null && due <= Date.now()) || (end !== null && end <= Date.now())) void ctx.storage.setAlarm(Date.now());
    }
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  private get timing(): lifecycle.Timing {
    return { leaseTtlMs: this.config.leaseTtlMs, cancelGraceMs: 2 * this.config.heartbeatIntervalMs + 15_000 };
  }

  private load(): TaskRecord | null {
    return tableExists(this.sql, "task") ? loadTask(this.sql) : null;
  }

  private visible(viewer: Viewer): TaskRecord | null {
    const task = this.load();
    return task && (viewer.admin || task.owner === viewer.owner) ? task : null;
  }

  /** Creates the task, or returns it again for the same idempotency key and body. */
  async create(input: {
    id: string;
    owner: string;
    requestHash: string;
    spec: PublicTaskSpec;
    /** Write-only secrets, sealed here before anything is stored. */
    secrets: TaskSecrets | null;
    /** The owner key's `max_concurrent_tasks`, enforced by the dispatcher. */
    maxConcurrent?: number | null;
    /** The task's trace: the creating request's span (see `tracing/task-span.ts`). */
    traceparent?: string;
  }): Promise<Outcome<{ created: boolean; task: Task }>> {
    return inTaskTrace(input.traceparent ?? null, "TaskObject.create", () => this.createInTrace(input), { attributes: { "codeforge.task_id": input.id } });
  }

  private async createInTrace(input: Parameters<TaskObject["create"]>[0]): Promise<Outcome<{ created: boolean; task: Task }>> {
    let sealedSecrets: string | null = null;
    if (input.secrets) {
      if (this.config.taskSecretsKey === null) return { ok: false, code: "validation_failed", message: "this edge has no TASK_SECRETS_KEY" };
      sealedSecrets = await sealSecrets(await secretBox(this.config.taskSecretsKey), input.id, input.secrets);
    }
    migrate(this.sql, TASK_MIGRATIONS, TASK_BASELINE);
    const existing = loadTask(this.sql);
    if (existing) {
      if (existing.owner !== input.owner || existing.requestHash !== input.requestHash) {
        return { ok: false, code: "idempotency_conflict", message: "this Idempotency-Key was used with a different request" };
      }
      // A replay is also a chance to deliver a report the index still lacks.
      await this.reportToIndex();
      return { ok: true, value: { created: false, task: await this.present(existing) } };
    }
    const now = Date.now();
    const start = lifecycle.initialState({ maxAttempts: input.spec.max_attempts, timeoutMs: input.spec.timeout_seconds * 1000, now });
    const { secrets: _plain, traceparent, ...row } = input;
    insertTask(this.sql, { ...row, state: start.state, now, sealedSecrets, secretSummary: summarize(input.secrets) });
    insertIteration(this.sql, { n: 1, prompt: input.spec.prompt, model: input.spec.model ?? null, createdAt: now, firstSeq: lastSeq(this.sql) + 1 });
    if (traceparent) saveTraceparent(this.sql, traceparent);
    const reported = this.record(start.state, start.changes, now);
    const enqueued = await this.carryOut(start.effects, loadTask(this.sql)!);
    // Awaited before answering, so the creator's next list shows the task. The report was owed
    // from the insert's own write: if it fails, the alarm makes it instead.
    await reported;
    return { ok: true, value: { created: true, task: await this.present(loadTask(this.sql)!, enqueued) } };
  }

  async view(viewer: Viewer): Promise<Outcome<Task>> {
    const task = this.visible(viewer);
    return task ? { ok: true, value: await this.present(task) } : notFound;
  }

  /** A page of the event log as JSON text (built without re-serializing stored events). */
  async eventsPage(viewer: Viewer, since: number, limit: number): Promise<Outcome<string>> {
    const task = this.visible(viewer);
    if (!task) return notFound;
    const frames = [...eventsSince(this.sql, since, limit + 1)];
    const hasMore = frames.length > limit;
    const page = hasMore ? frames.slice(0, limit) : frames;
    const nextSince = page.length ? (JSON.parse(page[page.length - 1]!) as { seq: number }).seq : since;
    return {
      ok: true,
      value: `{"events":[${page.join(",")}],"next_since":${nextSince},"has_more":${hasMore},"status":"${task.state.status}"}`,
    };
  }

  async cancel(viewer: Viewer): Promise<Outcome<Task>> {
    const task = this.visible(viewer);
    if (!task) return notFound;
    const now = Date.now();
    const decision = lifecycle.cancel(task.state, { now });
    if (!decision.ok) return decision;
    if (decision.state.cancelRequestedAt !== null && task.state.cancelRequestedAt === null && !isTerminal(decision.state.status)) {
      this.appendAndBroadcast(task.state, { type: "log", source: "edge", level: "info", message: "cancel requested; waiting for the runner to stop the CLI" }, now);
    }
    this.record(decision.state, decision.changes, now);
    await this.carryOut(decision.effects, task);
    return { ok: true, value: await this.present(loadTask(this.sql)!) };
  }

  /**
   * A follow-up: iteration n+1 of an ended task, queued for any free runner, starting from
   * what the last iteration left (see iteration-base.ts). The ended iteration's outcome moves
   * to its `iterations` row; the task row starts over for the new one.
   */
  async followUp(viewer: Viewer, input: FollowUpInput): Promise<Outcome<{ created: boolean; task: Task }>> {
    const before = this.visible(viewer);
    if (!before) return notFound;
    const earlier = this.earlierFollowUp(input);
    if (earlier) return earlier === "replay" ? { ok: true, value: { created: false, task: await this.present(before) } } : earlier;
    if (input.spendRefusal) return { ok: false, ...input.spendRefusal };
    const firstCheck = this.decideFollowUp(before, input, Date.now());
    if (!firstCheck.ok) return firstCheck;
    if (input.maxQueued !== undefined && !(await this.dispatcher(before).admit({ taskId: before.id, keyId: before.owner, maxQueued: input.maxQueued }))) {
      return { ok: false, code: "rate_limited", message: `this API key already has ${input.maxQueued} tasks queued in pool '${before.spec.pool}' (its max_queued_tasks); wait for some to start` };
    }
    let sealedSecrets: string | null = null;
    if (input.secrets) {
      if (this.config.taskSecretsKey === null) return { ok: false, code: "validation_failed", message: "this edge has no TASK_SECRETS_KEY" };
      sealedSecrets = await sealSecrets(await secretBox(this.config.taskSecretsKey), before.id, input.secrets);
    }
    // Decided again after the awaits, in the same turn as the writes: a concurrent follow-up
    // (a retry with the same Idempotency-Key among them) may have won meanwhile.
    const task = this.load()!;
    const retried = this.earlierFollowUp(input);
    if (retried) return retried === "replay" ? { ok: true, value: { created: false, task: await this.present(task) } } : retried;
    const now = Date.now();
    const decided = this.decideFollowUp(task, input, now);
    if (!decided.ok) return decided;
    const { decision, base } = decided.value;
    closeIteration(this.sql, task.state, task.result);
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
    startIteration(this.sql, { spec, base, sealedSecrets, secretSummary: summarize(input.secrets) });
    const { iteration } = decision.state;
    insertIteration(this.sql, {
      n: iteration,
      prompt: spec.prompt,
      model: spec.model ?? null,
      createdAt: now,
      firstSeq: lastSeq(this.sql) + 1,
      idempotencyKey: input.idempotencyKey,
      requestHash: input.requestHash,
    });
    this.appendAndBroadcast(decision.state, { type: "iteration", iteration, prompt: spec.prompt }, now);
    this.record(decision.state, decision.changes, now);
    const started = loadTask(this.sql)!;
    const enqueued = await this.carryOut(decision.effects, started);
    return { ok: true, value: { created: true, task: await this.present(loadTask(this.sql)!, enqueued) } };
  }

  /** A follow-up this Idempotency-Key already started: "replay" for the same request, else the conflict. */
  private earlierFollowUp(input: FollowUpInput): "replay" | Extract<Outcome<never>, { ok: false }> | null {
    if (input.idempotencyKey === null) return null;
    const prior = iterationByIdempotencyKey(this.sql, input.idempotencyKey);
    if (!prior) return null;
    if (prior.requestHash === input.requestHash) return "replay";
    return { ok: false, code: "idempotency_conflict", message: "this Idempotency-Key was used with a different follow-up of this task" };
  }

  /** Whether `task` takes this follow-up now, and where its iteration would start. */
  private decideFollowUp(
    task: TaskRecord,
    input: FollowUpInput,
    now: number,
  ): Outcome<{ decision: Extract<lifecycle.Decision, { ok: true }>; base: IterationBase | null }> {
    const timeoutSeconds = input.timeoutSeconds ?? task.spec.timeout_seconds;
    const decision = lifecycle.followUp(task.state, { maxAttempts: task.spec.max_attempts, timeoutMs: timeoutSeconds * 1000, iterationsMax: ITERATIONS_MAX, now });
    if (!decision.ok) return decision;
    const base = nextIterationBase(latestResult(task.result, listIterations(this.sql)));
    if (!base.ok) return { ok: false, code: base.code, message: base.message };
    const secretsProblem = followUpSecretsProblem(task.secretSummary, input.secrets);
    if (secretsProblem) return { ok: false, code: "validation_failed", ...secretsProblem };
    return { ok: true, value: { decision, base: base.base } };
  }

  /**
   * Called for a runner the dispatcher picked; null when the task can no longer be leased.
   * The lease span is in the task's trace, linked to the runner's lease request (a trace of its
   * own: a long poll belongs to no task), and its `traceparent` goes to the runner.
   */
  async grantLease(input: { runnerId: string; requestTraceparent?: string | null }): Promise<Lease | null> {
    if (!tableExists(this.sql, "task")) return null;
    let traceparent = loadTraceparent(this.sql);
    if (traceparent === null) saveTraceparent(this.sql, (traceparent = newTraceparent()));
    return inTaskTrace(
      traceparent,
      "TaskObject.grantLease",
      async (leaseTraceparent, span) => {
        const lease = await this.grantLeaseInTrace(input.runnerId, leaseTraceparent);
        span.setAttributes({ "codeforge.leased": lease !== null, ...(lease ? { "codeforge.attempt": lease.attempt } : {}) });
        return lease;
      },
      { attributes: { "codeforge.task_id": this.load()?.id ?? "", "codeforge.runner_id": input.runnerId }, links: linkTo(input.requestTraceparent ?? null) },
    );
  }

  private async grantLeaseInTrace(runnerId: string, traceparent: string): Promise<Lease | null> {
    const leaseId = newLeaseId();
    const leaseHash = await sha256Hex(leaseId);
    // Secrets are opened before the lease is decided, so the decision and its write stay in one
    // turn; a task that ended meanwhile is refused below, and its opened secrets dropped.
    const opened = await this.openSecretsFor(this.load());
    if (opened === "unopenable") return null;
    const resume = await this.sessionToResume(this.load());
    const task = this.load();
    if (!task) return null;
    const now = Date.now();
    const decision = lifecycle.lease(task.state, { runnerId, leaseHash, now }, this.timing);
    if (!decision.ok) return null;
    this.record(decision.state, decision.changes, now);
    clearForAttempt(this.sql, decision.state.iteration);
    this.log(task).info("lease granted", { runner_id: runnerId, attempt: decision.state.attempt, resumes_session: resume !== null });
    const secrets = task.sealedSecrets === null ? null : opened;
    const spent = spentBefore(this.sql, decision.state.iteration, decision.state.attempt);
    return leaseFor(task, { leaseId, state: decision.state, heartbeatIntervalMs: this.config.heartbeatIntervalMs, secrets, traceparent, spent, resume });
  }

  /**
   * The lease holder keeps its CLI's session for the next iteration (see cli-session-store.ts):
   * sealed before it is stored, counted once this lease completes. Never shown to anyone.
   */
  async saveSession(input: SessionUpload): Promise<Outcome<SessionUploadAck>> {
    const leaseHash = await sha256Hex(input.lease_id);
    const before = this.load();
    if (!before) return notFound;
    const stale = lifecycle.checkLease(before.state, leaseHash, Date.now());
    if (stale && !stale.ok) return stale;
    if (input.session.cli !== before.spec.cli) return { ok: false, code: "validation_failed", message: `the session is ${input.session.cli}'s; this task runs ${before.spec.cli}`, field: "session.cli" };
    if (this.config.taskSecretsKey === null) return { ok: true, value: { stored: false } };
    const sealed = await sealSession(await secretBox(this.config.taskSecretsKey), before.id, before.state.iteration, input.session);
    // Checked again after the await, in the same turn as the write: the lease may have ended meanwhile.
    const task = this.load()!;
    const now = Date.now();
    const staleNow = lifecycle.checkLease(task.state, leaseHash, now);
    if (staleNow && !staleNow.ok) return staleNow;
    storeSession(this.sql, { iteration: task.state.iteration, leaseHash, sealed, now });
    this.log(task).info("cli session kept", { iteration: task.state.iteration, attempt: task.state.attempt, sealed_chars: sealed.length });
    return { ok: true, value: { stored: true } };
  }

  /** The session a lease of this iteration resumes, opened; null when there is none or it no longer opens. */
  private async sessionToResume(task: TaskRecord | null): Promise<CliSession | null> {
    if (!task || this.config.taskSecretsKey === null) return null;
    const sealed = sessionToResume(this.sql, task.state.iteration);
    if (sealed === null) return null;
    try {
      const session = await openSession(await secretBox(this.config.taskSecretsKey), task.id, task.state.iteration - 1, sealed);
      return session.cli === task.spec.cli ? session : null;
    } catch {
      // A session is a convenience: one that no longer opens (the key changed) means a fresh start.
      this.log(task).warn("cli session did not open; the iteration starts a fresh session");
      return null;
    }
  }

  async heartbeat(input: Heartbeat): Promise<Outcome<HeartbeatAck>> {
    const leaseHash = await sha256Hex(input.lease_id);
    const task = this.load();
    if (!task) return notFound;
    const now = Date.now();
    const decision = lifecycle.heartbeat(task.state, { leaseHash, phase: input.phase, now }, this.timing);
    if (!decision.ok) return decision;
    this.record(decision.state, decision.changes, now);
    this.keepRunnerListed(task);
    return {
      ok: true,
      value: {
        lease_expires_at: new Date(decision.state.leaseExpiresAt!).toISOString(),
        cancel_requested: decision.state.cancelRequestedAt !== null,
      },
    };
  }

  async appendEvents(input: EventBatch): Promise<Outcome<EventBatchAck>> {
    const leaseHash = await sha256Hex(input.lease_id);
    const task = this.load();
    if (!task) return notFound;
    const decision = lifecycle.acceptBatch(task.state, { leaseHash, batchSeq: input.batch_seq, now: Date.now() });
    if (!decision.ok) return decision;
    const ack = (stored: boolean): Outcome<EventBatchAck> => ({
      ok: true,
      value: { stored, last_batch_seq: decision.state.lastBatchSeq, cancel_requested: task.state.cancelRequestedAt !== null },
    });
    if (decision.duplicate) return ack(false);

    const now = Date.now();
    // Metered whether or not the output cap still stores the event: spend is not output.
    const usage = lastUsage(input.events);
    if (usage) recordUsage(this.sql, task.state, usage);
    const admitted = admitEvents(input.events, { bytes: task.outputBytes, truncated: task.outputTruncated }, this.config.outputMaxBytes);
    const frames = admitted.bodies.map((body) => appendEvent(this.sql, { ts: now, iteration: task.state.iteration, attempt: task.state.attempt, body }).frame);
    saveOutputUsage(this.sql, admitted.usage.bytes, admitted.usage.truncated);
    saveState(this.sql, decision.state, now);
    broadcast(this.ctx, frames);
    return ack(true);
  }

  async complete(input: Completion): Promise<Outcome<{ status: string }>> {
    const leaseHash = await sha256Hex(input.lease_id);
    const task = this.load();
    if (!task) return notFound;
    const now = Date.now();
    const decision = lifecycle.complete(task.state, {
      leaseHash,
      outcome: input.outcome,
      error: input.error,
      lastBatchSeq: input.last_batch_seq,
      now,
    });
    if (!decision.ok) return decision;
    // A retried report of the same lease: answer as before, store nothing twice.
    if (decision.changes.length === 0) return { ok: true, value: { status: decision.state.status } };
    markSessionCompleted(this.sql, task.state.iteration, leaseHash);
    if (input.result) {
      saveResult(this.sql, input.result);
      recordResultCost(this.sql, task.state, input.result.cost_usd);
      this.appendAndBroadcast(task.state, { type: "result", result: input.result }, now);
    }
    this.record(decision.state, decision.changes, now);
    await this.carryOut(decision.effects, task);
    await this.sendCharges(task);
    return { ok: true, value: { status: decision.state.status } };
  }

  /** The lease holder hands the task back (shutting down): it is re-queued at once. */
  async release(input: Release): Promise<Outcome<ReleaseAck>> {
    const leaseHash = await sha256Hex(input.lease_id);
    const task = this.load();
    if (!task) return notFound;
    const now = Date.now();
    const decision = lifecycle.release(task.state, { leaseHash, reason: input.reason, now });
    if (!decision.ok) return decision;
    this.record(decision.state, decision.changes, now);
    await this.carryOut(decision.effects, task);
    await this.sendCharges(task);
    return { ok: true, value: { status: decision.state.status } };
  }

  /** The task's webhook deliveries, each with every attempt. */
  async deliveries(viewer: Viewer): Promise<Outcome<DeliveryList>> {
    const task = this.visible(viewer);
    return task ? { ok: true, value: { deliveries: listDeliveries(this.sql, task.id) } } : notFound;
  }

  /** Replays a delivery: a new attempt series, due now, with the same message id and body. */
  async redeliver(viewer: Viewer, deliveryId: string): Promise<Outcome<Delivery>> {
    const task = this.visible(viewer);
    if (!task) return notFound;
    const exists = listDeliveries(this.sql, task.id).some((d) => d.id === deliveryId);
    if (!exists) return { ok: false, code: "not_found", message: "delivery not found" };
    if (!restartSeries(this.sql, deliveryId, Date.now())) {
      return { ok: false, code: "invalid_state", message: "this delivery was redelivered as many times as it may be" };
    }
    this.armAlarm(task.state);
    return { ok: true, value: listDeliveries(this.sql, task.id).find((d) => d.id === deliveryId)! };
  }

  /** WebSocket upgrade for `GET /api/v1/tasks/:id/stream?since=N`, forwarded by the Worker. */
  override async fetch(request: Request): Promise<Response> {
    const viewer = JSON.parse(request.headers.get(VIEWER_HEADER) ?? "null") as Viewer | null;
    const task = viewer ? this.visible(viewer) : null;
    if (!task) return Response.json(notFound, { status: 404 });
    // Counting and accepting happen in one turn of the object: the cap is exact under a rush.
    if (watcherCount(this.ctx) >= this.config.streamMaxWatchersPerTask) {
      return Response.json({ ok: false, code: "stream_full", message: "this task has as many watchers as it accepts" }, { status: this.config.streamFullStatus });
    }
    const since = Number(new URL(request.url).searchParams.get("since") ?? "0");
    return acceptWatcher(this.ctx, {
      since,
      backlog: eventsSince(this.sql, since),
      ended: isTerminal(task.state.status),
      now: Date.now(),
    });
  }

  override async alarm(): Promise<void> {
    const task = this.load();
    if (!task) return;
    const now = Date.now();
    if (await this.deleteIfExpired(now)) return;
    const decision = lifecycle.onAlarm(task.state, now, this.timing);
    // An alarm for a webhook alone leaves the lifecycle as it was: write nothing (updated_at stays).
    if (decision.ok && (decision.state !== task.state || decision.changes.length > 0)) {
      this.record(decision.state, decision.changes, now);
      await this.carryOut(decision.effects, task);
    }
    await reportToIndex(this.sql, taskIndexOf(this.env), Date.now, (err) => this.indexReportFailed(err));
    await this.sendCharges(task);
    await runDeliveries({
      sql: this.sql,
      taskId: task.id,
      owner: task.owner,
      config: this.config.webhooks,
      signingSecrets: () => webhookSecretsFor(this.env).signingSecrets(task.owner),
      send: (request) => this.sendInTrace(task.id, request),
      deadLetters: deadLetterSink(this.env),
      log: this.log(task),
      onOutcome: (outcome) => stageSamples(this.ctx.storage.kv, webhookAttemptSamples(outcome), Date.now()),
    });
    // Armed for what is due next before the metrics leave (sending them re-arms again).
    this.armAlarm(this.load()!.state);
    await this.sendMetrics(task);
  }

  /**
   * One webhook attempt as a span in the task's trace; the request's `traceparent` names that
   * span. With tracing off there is no span: the attempt gets a new span id in the task's trace.
   */
  private sendInTrace(taskId: string, request: WebhookRequest): Promise<AttemptResult> {
    return inTaskTrace(
      request.traceparent,
      "webhook.deliver",
      (attempt) => sendWebhook({ ...request, traceparent: attempt === request.traceparent ? childTraceparent(attempt) : attempt }),
      { kind: SpanKind.CLIENT, attributes: { "codeforge.task_id": taskId, "codeforge.delivery_id": request.id } },
    );
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    // Watchers only listen; "ping" is answered by the auto-response without waking us.
    if (message !== "ping") ws.send(JSON.stringify({ type: "error", message: "this stream is read-only" }));
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 ? 1000 : code, reason);
    } catch {
      // Already closed from our side (task ended): nothing to complete.
    }
  }

  /**
   * Saves a new state, logs and broadcasts its status changes, and re-arms the alarm. With
   * changes, also starts the report to the task index and returns it (callers need not wait).
   */
  private record(state: lifecycle.LifecycleState, changes: readonly lifecycle.StatusChange[], now: number): Promise<void> | null {
    saveState(this.sql, state, now);
    // An attempt that just ended gets its charge to the key's monthly spend, in the same write.
    settleEndedAttempts(this.sql, state, now);
    const frames = changes.map(
      (change) =>
        appendEvent(this.sql, {
          ts: now,
          iteration: state.iteration,
          attempt: state.attempt,
          body: {
            type: "status",
            status: change.status,
            runner_id: change.runnerId,
            error: change.error,
            ...(change.reason ? { reason: change.reason } : {}),
          } satisfies StatusEvent,
        }).frame,
    );
    // An ended task never needs its secrets again: erase them in the same write.
    if (isTerminal(state.status)) eraseSecrets(this.sql);
    if (changes.length) {
      this.queueWebhooks(changes, now);
      markIndexDue(this.sql, now);
    }
    const ended = changes.some((change) => isTerminal(change.status)) && isTerminal(state.status);
    if (ended) this.stageTaskEnd(state, now);
    broadcast(this.ctx, frames);
    if (isTerminal(state.status) && changes.length) closeWatchers(this.ctx);
    this.armAlarm(state);
    // After the write: the reports leave in the background and the alarm retries them if need be.
    if (ended) void this.sendMetrics(loadTask(this.sql)!);
    return changes.length ? this.reportToIndex() : null;
  }

  /** Counts the task's end and its duration (creation to end), in the same write as the end. */
  private stageTaskEnd(state: lifecycle.LifecycleState, now: number): void {
    const task = loadTask(this.sql)!;
    const seconds = Math.max(0, (now - task.createdAt) / 1_000);
    stageSamples(this.ctx.storage.kv, taskEndSamples({ status: state.status, cli: task.spec.cli, durationSeconds: seconds }), now);
    this.log(task).info("task ended", { status: state.status, cli: task.spec.cli, duration_seconds: seconds, attempt: state.attempt, error_code: state.error?.code });
  }

  /** Sends what ended attempts owe the owner key's spend meter; on failure they wait for the alarm. */
  private async sendCharges(task: TaskRecord): Promise<void> {
    if (chargeDeadline(this.sql) === null) return;
    try {
      const meter = spendMeterOf(this.env, task.owner);
      await sendOwedCharges(this.sql, { taskId: task.id, createdAt: task.createdAt, charge: (charge) => meter.charge(charge), now: Date.now });
    } catch (err) {
      this.log(task).warn("spend report failed; the alarm retries", { error: String(err) });
    }
    this.armAlarm(this.load()?.state ?? task.state);
  }

  /** Sends staged metric reports to the `Metrics` object; on failure they wait for the alarm. */
  private async sendMetrics(task: TaskRecord): Promise<void> {
    try {
      // Once sent, the alarm need not come back for them: re-arm for what is left.
      if (await sendStagedSamples(this.ctx.storage.kv, (samples) => metricsObject(this.env).add(samples))) this.armAlarm(this.load()?.state ?? task.state);
    } catch (err) {
      this.log(task).warn("metrics report failed; the alarm retries", { error: String(err) });
      this.armAlarm(this.load()?.state ?? task.state);
    }
  }

  /** The task's logger: every line carries its id and, when it has one, its trace id. */
  private log(task: Pick<TaskRecord, "id">): Logger {
    const trace = parseTraceparent(loadTraceparent(this.sql));
    return logFor(this.env).child({ task_id: task.id, ...(trace ? { trace_id: trace.traceId } : {}) });
  }

  /** Reports the task's state to the task index if a report is owed, then re-arms the alarm. Never throws. */
  private async reportToIndex(): Promise<void> {
    try {
      await reportToIndex(this.sql, taskIndexOf(this.env), Date.now, (err) => this.indexReportFailed(err));
      const task = this.load();
      if (task) this.armAlarm(task.state);
    } catch (err) {
      // The report stays owed and its deadline is on the alarm: it is made later.
      this.log({ id: loadTask(this.sql)?.id ?? "unknown" }).warn("task index report failed", { error: String(err) });
    }
  }

  private indexReportFailed(err: unknown): void {
    this.log({ id: loadTask(this.sql)?.id ?? "unknown" }).warn("task index report failed; the alarm retries", { error: String(err) });
  }

  /**
   * Sets the one alarm to the earliest deadline: the lifecycle's, a webhook delivery's, the
   * index report's, or — once nothing else is owed — the end of an ended task's retention.
   */
  private armAlarm(state: lifecycle.LifecycleState): void {
    const owed = this.owedDeadlines();
    const at = lifecycle.earliestDeadline(lifecycle.nextDeadline(state, this.timing), ...owed, this.deletionAt(state, owed));
    if (at === null) void this.ctx.storage.deleteAlarm();
    else void this.ctx.storage.setAlarm(at);
  }

  /** Deadlines of what the task still owes besides its lifecycle: webhook deliveries, the index report, metrics, spend. */
  private owedDeadlines(): (number | null)[] {
    const metricsRetryAt = hasStagedSamples(this.ctx.storage.kv) ? Date.now() + OUTBOX_RETRY_MS : null;
    return [nextDeliveryDeadline(this.sql), indexDeadline(this.sql), metricsRetryAt, chargeDeadline(this.sql)];
  }

  /** When the task is to be deleted: the end of an ended task's retention, once it owes nothing; else null. */
  private deletionAt(state: lifecycle.LifecycleState, owed = this.owedDeadlines()): number | null {
    return owed.every((at) => at === null) ? retentionEnd(state, this.config.taskRetentionMs) : null;
  }

  /**
   * Deletes an ended task whose retention is over and that owes nothing more (no delivery, no
   * index report, no metrics): its index entry first, then all its storage, so it answers 404
   * from then on. Other events wait meanwhile, so a follow-up cannot slip in between.
   * True when the task is gone (or its deletion is to be retried).
   */
  private deleteIfExpired(now: number): Promise<boolean> {
    return this.ctx.blockConcurrencyWhile(async () => {
      const task = this.load();
      const at = task ? this.deletionAt(task.state) : null;
      if (!task || at === null || now < at) return false;
      try {
        await taskIndexOf(this.env).remove(task.id);
      } catch (err) {
        this.log(task).warn("task index removal failed; deleting the task later", { error: String(err) });
        await this.ctx.storage.setAlarm(now + TASK_INDEX_RETRY_MS);
        return true;
      }
      this.log(task).info("task deleted: its retention ended", { status: task.state.status, finished_at: new Date(task.state.finishedAt!).toISOString() });
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
      recordAudit(this.env, (p) => this.ctx.waitUntil(p), {
        actor: "system:retention",
        clientIp: null,
        requestId: `retention:${task.id}`,
        action: "task.delete",
        target: task.id,
        outcome: "success",
      });
      return true;
    });
  }

  /** Stores the webhooks these status changes owe, in the same write as the changes themselves. */
  private queueWebhooks(changes: readonly lifecycle.StatusChange[], now: number): void {
    const task = loadTask(this.sql)!;
    queueWebhooks(this.sql, {
      spec: task.spec,
      changes,
      view: () => toTaskView(task, lastSeq(this.sql), listIterations(this.sql)),
      now,
      config: this.config.webhooks,
      log: this.log(task),
    });
  }

  /**
   * The client's view, with why it waits when it is queued: as its dispatcher answered the
   * enqueue just now, else asked of the dispatcher.
   */
  private async present(task: TaskRecord, enqueued: Enqueued | null = null): Promise<Task> {
    let waitingReason: string | null = enqueued?.waitingReason ?? null;
    if (task.state.status === "queued" && enqueued === null) {
      try {
        waitingReason = await this.dispatcher(task).waitingReason({ pool: task.spec.pool, cli: task.spec.cli, labels: task.spec.labels });
      } catch (err) {
        // The reason is a courtesy: a task is still shown when its dispatcher cannot be asked.
        this.log(task).warn("waiting reason unavailable", { error: String(err) });
      }
    }
    return toTaskView(task, lastSeq(this.sql), listIterations(this.sql), waitingReason);
  }

  /**
   * The task's secrets for a lease: null when it has none, "unopenable" when they no longer
   * open (the key changed): the task then fails, since no runner could run it as asked.
   */
  private async openSecretsFor(task: TaskRecord | null): Promise<TaskSecrets | null | "unopenable"> {
    if (!task?.sealedSecrets) return null;
    try {
      if (this.config.taskSecretsKey === null) throw new Error("no TASK_SECRETS_KEY");
      return await openSecrets(await secretBox(this.config.taskSecretsKey), task.id, task.sealedSecrets);
    } catch {
      // The error says nothing about the secrets themselves; only that they did not open.
      const current = this.load();
      if (!current) return "unopenable";
      const now = Date.now();
      const message = "the task's secrets cannot be decrypted (TASK_SECRETS_KEY changed or unset); submit it again";
      const decision = lifecycle.abandon(current.state, { error: { code: "secrets_unavailable", message }, now });
      if (decision.ok) {
        this.record(decision.state, decision.changes, now);
        await this.carryOut(decision.effects, current);
      }
      this.log(task).error("task secrets did not open; task failed");
      return "unopenable";
    }
  }

  /** Tells the dispatcher, now and then, that this task's runner is alive though too busy to poll. */
  private keepRunnerListed(task: TaskRecord): void {
    const now = Date.now();
    if (task.state.runnerId === null || now - this.runnerTouchedAt < RUNNER_TOUCH_INTERVAL_MS) return;
    this.runnerTouchedAt = now;
    this.dispatcher(task)
      .touchRunner(task.state.runnerId)
      .catch((err: unknown) => {
        // Only the runners list is affected, and the next heartbeat tries again.
        this.runnerTouchedAt = 0;
        this.log(task).warn("runner touch failed", { runner_id: task.state.runnerId ?? undefined, error: String(err) });
      });
  }

  private dispatcher(task: TaskRecord) {
    return this.env.DISPATCHERS.get(this.env.DISPATCHERS.idFromName(task.spec.pool));
  }

  private appendAndBroadcast(at: { iteration: number; attempt: number }, body: Parameters<typeof appendEvent>[1]["body"], now: number): void {
    broadcast(this.ctx, [appendEvent(this.sql, { ts: now, iteration: at.iteration, attempt: at.attempt, body }).frame]);
  }

  /** After a hand-off, re-arms the alarm to re-offer the task soon if that runner never leases it. */
  private expectLeaseSoon(): void {
    const task = this.load();
    if (!task) return;
    const now = Date.now();
    const decision = lifecycle.handedOff(task.state, now);
    if (decision.ok && decision.state !== task.state) this.record(decision.state, decision.changes, now);
  }

  /**
   * Effects talk to the task's dispatcher (see dispatcher-effects.ts); failures are logged and
   * healed by the re-queue alarm. Returns the dispatcher's answer to an enqueue, if any.
   */
  private carryOut(effects: readonly lifecycle.Effect[], task: TaskRecord): Promise<Enqueued | null> {
    if (effects.length === 0) return Promise.resolve(null);
    return carryOutEffects(effects, task, { dispatcher: this.dispatcher(task), traceparent: loadTraceparent(this.sql), log: this.log(task), onHandedOff: () => this.expectLeaseSoon() });
  }
}

/** When an ended task's retention is over; null while it runs, or when tasks are kept forever. */
function retentionEnd(state: lifecycle.LifecycleState, retentionMs: number | null): number | null {
  return retentionMs !== null && isTerminal(state.status) && state.finishedAt !== null ? state.finishedAt + retentionMs : null;
}
