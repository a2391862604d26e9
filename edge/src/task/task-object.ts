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
import type { Completion, EventBatch, EventBatchAck, Heartbeat, HeartbeatAck, Lease, Release, ReleaseAck } from "../../../api/runner-protocol.js";
import { sha256Hex } from "../../../api/signing.js";
import type { StatusEvent } from "../../../api/stream-events.js";
import type { Task } from "../../../api/task.js";
import { childTraceparent, newTraceparent } from "../../../api/trace-context.js";
import type { Delivery, DeliveryList } from "../../../api/webhooks.js";
import { isTerminal } from "../../../api/task.js";
import { edgeConfig, type EdgeConfig, type Env } from "../env.js";
import { migrate, tableExists, type Sql } from "../sql/migrations.js";
import { appendEvent, eventsSince, lastSeq } from "./event-log.js";
import { leaseFor } from "./lease-grant.js";
import * as lifecycle from "./lifecycle.js";
import { admitEvents } from "./output-cap.js";
import { TASK_MIGRATIONS } from "./schema.js";
import { secretBox } from "./secret-box.js";
import { openSecrets, sealSecrets, summarize, type PublicTaskSpec, type TaskSecrets } from "./task-secrets.js";
import { eraseSecrets, insertTask, loadTask, saveOutputUsage, saveResult, saveState, type TaskRecord } from "./task-store.js";
import { toTaskView } from "./task-view.js";
import { acceptWatcher, broadcast, closeWatchers, watcherCount } from "./watchers.js";
import { deadLetterSink } from "../webhooks/dead-letters.js";
import { runDeliveries } from "../webhooks/delivery-engine.js";
import { listDeliveries, loadTraceparent, nextDeliveryDeadline, restartSeries, saveTraceparent } from "../webhooks/delivery-store.js";
import { queueWebhooks } from "../webhooks/webhook-outbox.js";
import { webhookSecretsFor } from "../webhooks/webhook-secrets.js";
import { sendWebhook, type WebhookRequest } from "../webhooks/webhook-sender.js";
import type { AttemptResult } from "../webhooks/delivery-policy.js";
import { inTaskTrace, linkTo } from "../tracing/task-span.js";

/** Result of an RPC call: typed values or a contract error code, never a thrown error. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string };

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
    if (tableExists(this.sql, "task")) migrate(this.sql, TASK_MIGRATIONS);
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
    migrate(this.sql, TASK_MIGRATIONS);
    const existing = loadTask(this.sql);
    if (existing) {
      if (existing.owner !== input.owner || existing.requestHash !== input.requestHash) {
        return { ok: false, code: "idempotency_conflict", message: "this Idempotency-Key was used with a different request" };
      }
      return { ok: true, value: { created: false, task: await this.present(existing) } };
    }
    const now = Date.now();
    const start = lifecycle.initialState({ maxAttempts: input.spec.max_attempts, timeoutMs: input.spec.timeout_seconds * 1000, now });
    const { secrets: _plain, traceparent, ...row } = input;
    insertTask(this.sql, { ...row, state: start.state, now, sealedSecrets, secretSummary: summarize(input.secrets) });
    if (traceparent) saveTraceparent(this.sql, traceparent);
    this.record(start.state, start.changes, now);
    await this.carryOut(start.effects, loadTask(this.sql)!);
    return { ok: true, value: { created: true, task: await this.present(loadTask(this.sql)!) } };
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
      this.appendAndBroadcast(task.state.attempt, { type: "log", source: "edge", level: "info", message: "cancel requested; waiting for the runner to stop the CLI" }, now);
    }
    this.record(decision.state, decision.changes, now);
    await this.carryOut(decision.effects, task);
    return { ok: true, value: await this.present(loadTask(this.sql)!) };
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
    const task = this.load();
    if (!task) return null;
    const now = Date.now();
    const decision = lifecycle.lease(task.state, { runnerId, leaseHash, now }, this.timing);
    if (!decision.ok) return null;
    this.record(decision.state, decision.changes, now);
    const secrets = task.sealedSecrets === null ? null : opened;
    return leaseFor(task, { leaseId, state: decision.state, heartbeatIntervalMs: this.config.heartbeatIntervalMs, secrets, traceparent });
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
    const admitted = admitEvents(input.events, { bytes: task.outputBytes, truncated: task.outputTruncated }, this.config.outputMaxBytes);
    const frames = admitted.bodies.map((body) => appendEvent(this.sql, { ts: now, attempt: task.state.attempt, body }).frame);
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
    if (input.result) {
      saveResult(this.sql, input.result);
      this.appendAndBroadcast(task.state.attempt, { type: "result", result: input.result }, now);
    }
    this.record(decision.state, decision.changes, now);
    await this.carryOut(decision.effects, task);
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
    const decision = lifecycle.onAlarm(task.state, now, this.timing);
    // An alarm for a webhook alone leaves the lifecycle as it was: write nothing (updated_at stays).
    if (decision.ok && (decision.state !== task.state || decision.changes.length > 0)) {
      this.record(decision.state, decision.changes, now);
      await this.carryOut(decision.effects, task);
    }
    await runDeliveries({
      sql: this.sql,
      taskId: task.id,
      owner: task.owner,
      config: this.config.webhooks,
      signingSecrets: () => webhookSecretsFor(this.env).signingSecrets(task.owner),
      send: (request) => this.sendInTrace(task.id, request),
      deadLetters: deadLetterSink(this.env),
    });
    this.armAlarm(this.load()!.state);
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

  /** Saves a new state, logs and broadcasts its status changes, and re-arms the alarm. */
  private record(state: lifecycle.LifecycleState, changes: readonly lifecycle.StatusChange[], now: number): void {
    saveState(this.sql, state, now);
    const frames = changes.map(
      (change) =>
        appendEvent(this.sql, {
          ts: now,
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
    if (changes.length) this.queueWebhooks(changes, now);
    broadcast(this.ctx, frames);
    if (isTerminal(state.status) && changes.length) closeWatchers(this.ctx);
    this.armAlarm(state);
  }

  /** Sets the one alarm to the earliest deadline: the lifecycle's or a webhook delivery's. */
  private armAlarm(state: lifecycle.LifecycleState): void {
    const at = lifecycle.earliestDeadline(lifecycle.nextDeadline(state, this.timing), nextDeliveryDeadline(this.sql));
    if (at === null) void this.ctx.storage.deleteAlarm();
    else void this.ctx.storage.setAlarm(at);
  }

  /** Stores the webhooks these status changes owe, in the same write as the changes themselves. */
  private queueWebhooks(changes: readonly lifecycle.StatusChange[], now: number): void {
    const task = loadTask(this.sql)!;
    queueWebhooks(this.sql, {
      spec: task.spec,
      changes,
      view: () => toTaskView(task, lastSeq(this.sql)),
      now,
      config: this.config.webhooks,
    });
  }

  /** The client's view, with why it waits when it is queued (asked of its pool's dispatcher). */
  private async present(task: TaskRecord): Promise<Task> {
    let waitingReason: string | null = null;
    if (task.state.status === "queued") {
      try {
        waitingReason = await this.dispatcher(task).waitingReason({ pool: task.spec.pool, cli: task.spec.cli, labels: task.spec.labels });
      } catch (err) {
        // The reason is a courtesy: a task is still shown when its dispatcher cannot be asked.
        console.error(JSON.stringify({ level: "warn", msg: "waiting reason unavailable", task_id: task.id, error: String(err) }));
      }
    }
    return toTaskView(task, lastSeq(this.sql), waitingReason);
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
      console.error(JSON.stringify({ level: "error", msg: "task secrets did not open; task failed", task_id: task.id }));
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
        console.error(JSON.stringify({ level: "warn", msg: "runner touch failed", task_id: task.id, error: String(err) }));
      });
  }

  private dispatcher(task: TaskRecord) {
    return this.env.DISPATCHERS.get(this.env.DISPATCHERS.idFromName(task.spec.pool));
  }

  private appendAndBroadcast(attempt: number, body: Parameters<typeof appendEvent>[1]["body"], now: number): void {
    broadcast(this.ctx, [appendEvent(this.sql, { ts: now, attempt, body }).frame]);
  }

  /** After a hand-off, re-arms the alarm to re-offer the task soon if that runner never leases it. */
  private expectLeaseSoon(): void {
    const task = this.load();
    if (!task) return;
    const now = Date.now();
    const decision = lifecycle.handedOff(task.state, now);
    if (decision.ok && decision.state !== task.state) this.record(decision.state, decision.changes, now);
  }

  /** Effects talk to the task's dispatcher; failures are logged and healed by the re-queue alarm. */
  private async carryOut(effects: readonly lifecycle.Effect[], task: TaskRecord): Promise<void> {
    if (effects.length === 0) return;
    const dispatcher = this.dispatcher(task);
    const traceparent = loadTraceparent(this.sql);
    for (const effect of effects) {
      await inTaskTrace(traceparent, `Dispatcher.${effect}`, () => this.carryOutOne(effect, task, dispatcher), { kind: SpanKind.CLIENT, attributes: { "codeforge.task_id": task.id } });
    }
  }

  private async carryOutOne(effect: lifecycle.Effect, task: TaskRecord, dispatcher: ReturnType<TaskObject["dispatcher"]>): Promise<void> {
    try {
      if (effect === "enqueue") {
        const handed = await dispatcher.enqueue({
          taskId: task.id,
          priority: task.spec.priority,
          cli: task.spec.cli,
          labels: task.spec.labels,
          ownerKeyId: task.owner,
          maxConcurrent: task.maxConcurrent,
          timeoutMs: task.state.timeoutMs,
        });
        if (handed) this.expectLeaseSoon();
      } else if (effect === "release") {
        // Lost only if this call fails; the slot then expires on its own (key-slots.ts).
        await dispatcher.releaseSlot(task.id);
      } else {
        await dispatcher.remove(task.id);
      }
    } catch (err) {
      console.error(JSON.stringify({ level: "warn", msg: `dispatcher ${effect} failed; the alarm retries`, task_id: task.id, error: String(err) }));
    }
  }
}
