/**
 * `TaskObject`: one Durable Object per task. It holds the task's state, its ordered event log
 * and its watchers, and it owns the lease.
 *
 * The class is an RPC façade: each method hands its call to the module that owns that concern
 * — creation (`task-creation.ts`), follow-ups (`follow-ups.ts`), the lease grant
 * (`lease-issuer.ts`), what the lease holder reports (`runner-reports.ts`), webhook deliveries
 * (`webhook-deliveries.ts`), the live stream (`live-stream.ts`). Every state change goes through
 * `lifecycle.ts` (pure) and is written by `status-recorder.ts`, which also owes the task index
 * (`task-index-reporter.ts`), the metrics (`metrics-reports.ts`) and webhooks their reports;
 * effects on the dispatcher are carried out last (`dispatcher-effects.ts`).
 *
 * The object has one alarm. Each concern with a deadline — lifecycle timers, retention, the
 * index report, spend charges, webhook deliveries, metric reports — registers with the
 * `AlarmSchedule` (`alarm-schedule.ts`), which sets it to the earliest wake-up; `alarm()` runs
 * them in turn. Nothing else sets the alarm.
 *
 * Every read-modify-write runs without an `await` in the middle, so no other request can
 * interleave with it: modules await (hashing, sealing, asking the dispatcher) before they read
 * the row they decide on, or read it again after. Spans (create, lease, dispatcher calls,
 * webhook attempts) are opened in the task's trace from the stored `traceparent` (see
 * `tracing/task-span.ts`).
 * @module
 */
import { DurableObject } from "cloudflare:workers";
import type {
  Completion,
  EventBatch,
  EventBatchAck,
  Heartbeat,
  HeartbeatAck,
  Lease,
  Release,
  ReleaseAck,
  SessionUpload,
  SessionUploadAck,
} from "#api/runner-protocol.js";
import { isTerminal, type Task } from "#api/task.js";
import type { Delivery, DeliveryList } from "#api/webhooks.js";
import type { Env } from "../env.js";
import { migrate, tableExists } from "../sql/migrations.js";
import { eventsPage, eventsSince } from "./event-log.js";
import { followUp } from "./follow-ups.js";
import { LeaseIssuer } from "./lease-issuer.js";
import * as lifecycle from "./lifecycle.js";
import { LifecycleTimers } from "./lifecycle-timers.js";
import { MetricsReports } from "./metrics-reports.js";
import { RunnerReports } from "./runner-reports.js";
import { TASK_BASELINE, TASK_MIGRATIONS } from "./schema.js";
import { SpendCharges } from "./spend-charges.js";
import { StatusRecorder } from "./status-recorder.js";
import { createTask } from "./task-creation.js";
import { TaskHost } from "./task-host.js";
import { TaskIndexReporter } from "./task-index-reporter.js";
import { presentTask } from "./task-presenter.js";
import { TaskRetention } from "./task-retention.js";
import { notFound, VIEWER_HEADER, type CreateInput, type FollowUpInput, type Outcome, type Refusal, type Viewer } from "./task-rpc.js";
import { WebhookDeliveries } from "./webhook-deliveries.js";

export class TaskObject extends DurableObject<Env> {
  private readonly host: TaskHost;
  private readonly recorder: StatusRecorder;
  private readonly index: TaskIndexReporter;
  private readonly webhooks: WebhookDeliveries;
  private readonly leases: LeaseIssuer;
  private readonly runner: RunnerReports;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const host = (this.host = new TaskHost(ctx, env));
    const metrics = new MetricsReports(host);
    const retention = new TaskRetention(host);
    const charges = new SpendCharges(host);
    this.index = new TaskIndexReporter(host);
    this.webhooks = new WebhookDeliveries(host, metrics);
    this.recorder = new StatusRecorder(host, { webhooks: this.webhooks, index: this.index, metrics });
    this.leases = new LeaseIssuer(host, this.recorder);
    this.runner = new RunnerReports(host, this.recorder, charges);
    // The alarm runs them in this order: retention first (a deleted task does nothing else).
    for (const concern of [retention, new LifecycleTimers(host, this.recorder), this.index, charges, this.webhooks, metrics]) host.schedule.register(concern);
    // Only objects that hold a task get (or upgrade) a schema: probing unknown ids stores nothing.
    if (tableExists(host.sql, "task")) {
      migrate(host.sql, TASK_MIGRATIONS, TASK_BASELINE);
      // A report to the task index overdue (a task older than the index, or one whose alarm was
      // lost), or the end of a retention that began before there was one (a task that ended
      // earlier): the alarm deals with it now, and then re-arms for whatever else is due.
      const now = Date.now();
      if (this.index.overdue(now) || retention.ended(now)) void host.schedule.wakeAt(now);
    }
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  /**
   * Nothing but waking the object: it migrates when it wakes, and sets its alarm for a report it
   * owes (the task index from before the shards hands its tasks over this way). True when it holds a task.
   */
  async wake(): Promise<boolean> {
    return this.host.load() !== null;
  }

  /** Creates the task, or returns it again for the same idempotency key and body. */
  async create(input: CreateInput): Promise<Outcome<{ created: boolean; task: Task }>> {
    return createTask(this.host, { recorder: this.recorder, index: this.index }, input);
  }

  async view(viewer: Viewer): Promise<Outcome<Task>> {
    const task = this.host.visible(viewer);
    return task ? { ok: true, value: await presentTask(this.host, task) } : notFound;
  }

  /** A page of the event log as JSON text (built without re-serializing stored events). */
  async eventsPage(viewer: Viewer, since: number, limit: number): Promise<Outcome<string>> {
    const task = this.host.visible(viewer);
    return task ? { ok: true, value: eventsPage(this.host.sql, since, limit, task.state.status) } : notFound;
  }

  /** A queued task ends at once; a leased one is told to stop through its heartbeat. */
  async cancel(viewer: Viewer): Promise<Outcome<Task>> {
    const task = this.host.visible(viewer);
    if (!task) return notFound;
    const now = Date.now();
    const decision = lifecycle.cancel(task.state, { now });
    if (!decision.ok) return decision;
    if (decision.state.cancelRequestedAt !== null && task.state.cancelRequestedAt === null && !isTerminal(decision.state.status)) {
      this.recorder.note(task.state, { type: "log", source: "edge", level: "info", message: "cancel requested; waiting for the runner to stop the CLI" }, now);
    }
    this.recorder.record(decision.state, decision.changes, now);
    await this.recorder.carryOut(decision.effects, task);
    return { ok: true, value: await presentTask(this.host, this.host.load()!) };
  }

  /** Iteration n+1 of an ended task (see follow-ups.ts). */
  async followUp(viewer: Viewer, input: FollowUpInput): Promise<Outcome<{ created: boolean; task: Task }>> {
    return followUp(this.host, this.recorder, viewer, input);
  }

  /** Called for a runner the dispatcher picked; null when the task can no longer be leased. */
  async grantLease(input: { runnerId: string; requestTraceparent?: string | null }): Promise<Lease | null> {
    return this.leases.grant(input);
  }

  // Runner reports. `pool` is set when a runner credential signed the report: it may report
  // only on its pool's tasks.

  /** The lease holder keeps its CLI's session for the next iteration. */
  async saveSession(input: SessionUpload, pool?: string): Promise<Outcome<SessionUploadAck>> {
    return this.outsidePool(pool) ?? this.runner.saveSession(input);
  }

  async heartbeat(input: Heartbeat, pool?: string): Promise<Outcome<HeartbeatAck>> {
    return this.outsidePool(pool) ?? this.runner.heartbeat(input);
  }

  async appendEvents(input: EventBatch, pool?: string): Promise<Outcome<EventBatchAck>> {
    return this.outsidePool(pool) ?? this.runner.appendEvents(input);
  }

  async complete(input: Completion, pool?: string): Promise<Outcome<{ status: string }>> {
    return this.outsidePool(pool) ?? this.runner.complete(input);
  }

  /** The lease holder hands the task back (shutting down): it is re-queued at once. */
  async release(input: Release, pool?: string): Promise<Outcome<ReleaseAck>> {
    return this.outsidePool(pool) ?? this.runner.release(input);
  }

  /** A refusal when a report scoped to `pool` is about a task of another pool. */
  private outsidePool(pool: string | undefined): Refusal | null {
    if (pool === undefined) return null;
    const task = this.host.load();
    if (!task || task.spec.pool === pool) return null;
    return { ok: false, code: "forbidden", message: `this runner credential is for pool "${pool}"; the task is in another pool` };
  }

  /** The task's webhook deliveries, each with every attempt. */
  async deliveries(viewer: Viewer): Promise<Outcome<DeliveryList>> {
    const task = this.host.visible(viewer);
    return task ? { ok: true, value: this.webhooks.list(task) } : notFound;
  }

  /** Replays a delivery: a new attempt series, due now, with the same message id and body. */
  async redeliver(viewer: Viewer, deliveryId: string): Promise<Outcome<Delivery>> {
    const task = this.host.visible(viewer);
    return task ? this.webhooks.redeliver(task, deliveryId) : notFound;
  }

  /**
   * `GET /api/v1/tasks/:id/stream?since=N`, forwarded by the Worker: a WebSocket upgrade, or
   * else a Server-Sent Events stream (the Worker has checked the request asks for one of them).
   */
  override async fetch(request: Request): Promise<Response> {
    const { stream, config, sql } = this.host;
    const viewer = JSON.parse(request.headers.get(VIEWER_HEADER) ?? "null") as Viewer | null;
    const task = viewer ? this.host.visible(viewer) : null;
    if (!task) return Response.json(notFound, { status: 404 });
    // Counting and accepting happen in one turn of the object: the cap is exact under a rush.
    if (stream.count() >= config.streamMaxWatchersPerTask) {
      return Response.json({ ok: false, code: "stream_full", message: "this task has as many watchers as it accepts" }, { status: config.streamFullStatus });
    }
    const since = Number(new URL(request.url).searchParams.get("since") ?? "0");
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return stream.acceptSse(since);
    return stream.accept({ since, backlog: eventsSince(sql, since), ended: isTerminal(task.state.status), now: Date.now() });
  }

  /** Each concern with a deadline does what it owes (see alarm-schedule.ts). */
  override async alarm(): Promise<void> {
    if (!this.host.load()) return;
    await this.host.schedule.run(Date.now());
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
}
