/**
 * The task's webhook deliveries as the task object runs them: queued in the same write as the
 * status changes that owe them, listed and redelivered for their owner, and attempted from the
 * alarm when due (`webhooks/delivery-engine.ts`), each attempt a span in the task's trace. The
 * rows are `webhooks/delivery-store.ts`'s.
 * @module
 */
import { SpanKind } from "@opentelemetry/api";
import { childTraceparent } from "#api/trace-context.js";
import type { Delivery, DeliveryList } from "#api/webhooks.js";
import { webhookAttemptSamples } from "../metrics/task-metrics.js";
import { inTaskTrace } from "../tracing/task-span.js";
import { deadLetterSink } from "../webhooks/dead-letters.js";
import { runDeliveries } from "../webhooks/delivery-engine.js";
import type { AttemptResult } from "../webhooks/delivery-policy.js";
import { listDeliveries, nextDeliveryDeadline, restartSeries } from "../webhooks/delivery-store.js";
import { queueWebhooks } from "../webhooks/webhook-outbox.js";
import { webhookSecretsFor } from "../webhooks/webhook-secrets.js";
import { sendWebhook, type WebhookRequest } from "../webhooks/webhook-sender.js";
import type { AlarmConcern } from "./alarm-schedule.js";
import { lastSeq } from "./event-log.js";
import { listIterations } from "./iteration-store.js";
import type { StatusChange } from "./lifecycle.js";
import type { MetricsReports } from "./metrics-reports.js";
import type { TaskHost } from "./task-host.js";
import type { Outcome } from "./task-rpc.js";
import { loadTask, type TaskRecord } from "./task-store.js";
import { toTaskView } from "./task-view.js";

export class WebhookDeliveries implements AlarmConcern {
  readonly name = "webhook deliveries";

  constructor(
    private readonly host: TaskHost,
    private readonly metrics: MetricsReports,
  ) {}

  nextWakeUp(): number | null {
    return nextDeliveryDeadline(this.host.sql);
  }

  /** Stores the webhooks these status changes owe, in the same write as the changes themselves. */
  queue(changes: readonly StatusChange[], now: number): void {
    const { sql } = this.host;
    const task = loadTask(sql)!;
    queueWebhooks(sql, {
      spec: task.spec,
      changes,
      view: () => toTaskView(task, lastSeq(sql), listIterations(sql)),
      now,
      config: this.host.config.webhooks,
      log: this.host.log(task),
    });
  }

  /** The task's webhook deliveries, each with every attempt. */
  list(task: TaskRecord): DeliveryList {
    return { deliveries: listDeliveries(this.host.sql, task.id) };
  }

  /** Replays a delivery: a new attempt series, due now, with the same message id and body. */
  redeliver(task: TaskRecord, deliveryId: string): Outcome<Delivery> {
    const { sql } = this.host;
    const exists = listDeliveries(sql, task.id).some((d) => d.id === deliveryId);
    if (!exists) return { ok: false, code: "not_found", message: "delivery not found" };
    if (!restartSeries(sql, deliveryId, Date.now())) {
      return { ok: false, code: "invalid_state", message: "this delivery was redelivered as many times as it may be" };
    }
    this.host.schedule.arm();
    return { ok: true, value: listDeliveries(sql, task.id).find((d) => d.id === deliveryId)! };
  }

  /** Makes every attempt that is due (and reports dead-letter changes). */
  async onAlarm(): Promise<void> {
    const task = this.host.load();
    if (!task) return;
    const { env } = this.host;
    await runDeliveries({
      sql: this.host.sql,
      taskId: task.id,
      owner: task.owner,
      config: this.host.config.webhooks,
      signingSecrets: () => webhookSecretsFor(env).signingSecrets(task.owner),
      send: (request) => sendInTrace(task.id, request),
      deadLetters: deadLetterSink(env),
      log: this.host.log(task),
      onOutcome: (outcome) => this.metrics.stage(webhookAttemptSamples(outcome), Date.now()),
    });
  }
}

/**
 * One webhook attempt as a span in the task's trace; the request's `traceparent` names that
 * span. With tracing off there is no span: the attempt gets a new span id in the task's trace.
 */
function sendInTrace(taskId: string, request: WebhookRequest): Promise<AttemptResult> {
  return inTaskTrace(
    request.traceparent,
    "webhook.deliver",
    (attempt) => sendWebhook({ ...request, traceparent: attempt === request.traceparent ? childTraceparent(attempt) : attempt }),
    { kind: SpanKind.CLIENT, attributes: { "codeforge.task_id": taskId, "codeforge.delivery_id": request.id } },
  );
}
