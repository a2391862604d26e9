/**
 * End to end: one task, one trace. The real edge (`wrangler dev`, traced by otel-cf-workers) and
 * a real runner (the OpenTelemetry Node SDK) both export OTLP/HTTP JSON to a local receiver
 * (node:http on 127.0.0.1) at 100% sampling; a real webhook receiver takes the task's webhook.
 *
 * It checks the trace a user would open in their tracing backend: the request that created the
 * task is the root, the task object, dispatcher, lease, the runner's clone / CLI / reports, the
 * edge's handling of each report and the webhook delivery all hang under it with the right
 * parents, and the webhook's `traceparent` names the delivery span. A client's `traceparent`
 * (even an unsampled one) neither parents nor decides our trace: it is a link. Then the
 * collector goes away (its port closed): tasks still succeed and requests are not slower.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { Task } from "#api/task.js";
import { streamFrameEvents } from "#api/stream-events.js";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../support/otlp-receiver.js";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";
import { startStack, type Stack } from "./local-stack.js";

let stack: Stack;
let otlp: OtlpReceiver;
let hooks: WebhookReceiver;

/** A client's own trace context, sent with the create request; flags 00: not sampled by the client. */
const CLIENT_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN_ID = "00f067aa0ba902b7";

beforeAll(async () => {
  otlp = await startOtlpReceiver();
  hooks = await startWebhookReceiver();
  hooks.script("traced", { default: { status: 200, body: "ok" } });
  stack = await startStack({
    vars: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_TRACES_SAMPLER_ARG: "1", WEBHOOKS_ALLOW_LOCAL: "true" },
    runnerEnv: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_TRACES_SAMPLER_ARG: "1" },
  });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await hooks?.close();
  await otlp?.close().catch(() => undefined);
});

async function createTask(headers: Record<string, string> = {}, extra: Record<string, unknown> = {}): Promise<{ task: Task; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${stack.edgeUrl}/api/v1/tasks`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.adminKey}`, "content-type": "application/json", ...headers },
    body: JSON.stringify({ repo: { url: stack.repoUrl, ref: "main" }, prompt: "Note the tracing test", cli: "demo", timeout_seconds: 60, ...extra }),
  });
  const ms = performance.now() - started;
  expect(res.status).toBe(201);
  return { task: (await res.json()) as Task, ms };
}

async function finished(id: string, timeoutMs = 30_000): Promise<Task> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const task = await stack.client.getTask(id);
    if (["succeeded", "failed", "timed_out", "canceled"].includes(task.status)) return task;
    if (Date.now() > deadline) throw new Error(`task ${id} still ${task.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const byTask = (id: string) => (s: ReceivedSpan) => s.attributes["codeforge.task_id"] === id;

function one(spans: ReceivedSpan[], predicate: (s: ReceivedSpan) => boolean, what: string): ReceivedSpan {
  const found = spans.filter(predicate);
  expect(found, `exactly one ${what}`).toHaveLength(1);
  return found[0]!;
}

describe("tracing across edge, task object, runner and webhook", () => {
  it("puts a task's whole life in one trace with the right parents; a client traceparent is only a link", async () => {
    const { task } = await createTask(
      { traceparent: `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-00` },
      { callback_url: `${hooks.url}/hook/traced`, callback_events: ["task.succeeded"] },
    );
    expect((await finished(task.id)).status).toBe("succeeded");

    // Everything has arrived when the delivery and the completion are in, and every report the
    // runner sent has the edge's span under it (the two sides export independently).
    const spans = await otlp.waitFor((all) => {
      const reports = all.filter((s) => s.service === "codeforge-runner" && s.name.startsWith("report ") && byTask(task.id)(s));
      return (
        all.some((s) => s.name === "webhook.deliver" && byTask(task.id)(s)) &&
        reports.some((s) => s.name === "report complete") &&
        reports.every((r) => all.some((s) => s.parentSpanId === r.spanId))
      );
    }, 20_000);
    const create = one(spans, (s) => s.name === "TaskObject.create" && byTask(task.id)(s), "task object create span");
    const traceId = create.traceId;
    const trace = spans.filter((s) => s.traceId === traceId);
    const bySpanId = new Map(trace.map((s) => [s.spanId, s]));
    const parentOf = (s: ReceivedSpan) => bySpanId.get(s.parentSpanId);

    // The root: the edge's span for the create request. Ours, not the client's, and unparented.
    const root = parentOf(create)!;
    expect(root).toMatchObject({ service: "codeforge-edge", name: "POST /api/v1/tasks", parentSpanId: "" });
    expect(traceId).not.toBe(CLIENT_TRACE_ID);
    expect(spans.some((s) => s.traceId === CLIENT_TRACE_ID)).toBe(false);
    expect(root.links).toEqual([{ traceId: CLIENT_TRACE_ID, spanId: CLIENT_SPAN_ID, attributes: { "codeforge.link.client_traceparent": true } }]);

    // Task object → dispatcher.
    expect(trace.filter((s) => s.name === "Dispatcher.enqueue").map((s) => s.parentSpanId)).toContain(create.spanId);

    // The lease: in the task's trace under the root, linked to the runner's long poll (a trace of its own).
    const lease = one(trace, (s) => s.name === "TaskObject.grantLease" && s.attributes["codeforge.leased"] === true, "lease span");
    expect(lease.parentSpanId).toBe(root.spanId);
    expect(lease.service).toBe("codeforge-edge");
    const poll = spans.find((s) => s.spanId === lease.links[0]?.spanId);
    expect(poll).toMatchObject({ name: "POST /runner/v1/lease", parentSpanId: "" });
    expect(poll!.traceId).not.toBe(traceId);

    // The runner's attempt under the lease span, its steps under the attempt.
    const attempt = one(trace, (s) => s.name === "runner.lease", "runner attempt span");
    expect(attempt).toMatchObject({ service: "codeforge-runner", parentSpanId: lease.spanId });
    expect(attempt.attributes).toMatchObject({
      "codeforge.task_id": task.id,
      "codeforge.attempt": 1,
      "codeforge.cli": "demo",
      "codeforge.attempt_end": "succeeded",
    });
    for (const step of ["git.clone", "cli.run", "git.result", "report complete"]) {
      expect(one(trace, (s) => s.name === step, step)).toMatchObject({ service: "codeforge-runner", parentSpanId: attempt.spanId });
    }
    expect(one(trace, (s) => s.name === "cli.run", "cli span").attributes["process.exit.code"]).toBe(0);

    // Every report the runner sent is continued by the edge's span for it.
    const reports = trace.filter((s) => s.service === "codeforge-runner" && s.name.startsWith("report "));
    expect(reports.map((s) => s.name)).toEqual(expect.arrayContaining(["report heartbeat", "report events", "report complete"]));
    for (const report of reports) {
      const action = report.name.slice("report ".length);
      const handled = trace.filter((s) => s.parentSpanId === report.spanId);
      expect(handled, `edge span under ${report.name}`).toEqual([
        expect.objectContaining({ service: "codeforge-edge", name: `POST /runner/v1/tasks/:id/${action}` }),
      ]);
    }

    // The webhook: a delivery span under the root, and the request names it.
    const deliver = one(trace, (s) => s.name === "webhook.deliver", "webhook delivery span");
    expect(deliver.parentSpanId).toBe(root.spanId);
    const [webhook] = hooks.requests("traced");
    expect(webhook!.headers.traceparent).toBe(`00-${traceId}-${deliver.spanId}-01`);
    expect(webhook!.headers["x-trace-id"]).toBe(traceId);

    // The traced task object still streams: a watcher gets the replay up to the final status.
    const statuses = await new Promise<string[]>((resolve, reject) => {
      const seen: string[] = [];
      const ws = new WebSocket(stack.client.streamUrl(task.id, 0), { headers: stack.client.authHeaders });
      ws.on("message", (data) => {
        for (const event of streamFrameEvents(String(data))) {
          if (event.type !== "status") continue;
          seen.push(event.status);
          if (event.status === "succeeded") {
            ws.terminate();
            resolve(seen);
          }
        }
      });
      ws.on("error", reject);
    });
    expect(statuses).toEqual(["queued", "leased", "running", "succeeded"]);

    // Nothing in the trace is an orphan: every parent is a span we exported.
    for (const s of trace) if (s !== root) expect(bySpanId.has(s.parentSpanId), `parent of ${s.service}:${s.name}`).toBe(true);
  });

  it("with the collector down, tasks still succeed and creating one is not slower", async () => {
    const timed = async (n: number) => {
      const ms: number[] = [];
      for (let i = 0; i < n; i++) ms.push((await createTask()).ms);
      return ms.sort((a, b) => a - b)[Math.floor(n / 2)]!;
    };
    const before = await timed(8);
    await otlp.close();
    const exportsBefore = otlp.requests();

    const { task } = await createTask();
    expect((await finished(task.id)).status).toBe("succeeded");
    const after = await timed(8);
    expect(otlp.requests()).toBe(exportsBefore);
    // Exports happen after the response (waitUntil) or in the background: a refused connection
    // must not reach the request's latency. Generous bound for a shared, loaded machine.
    expect(after).toBeLessThan(before * 2 + 50);
  }, 60_000);
});
