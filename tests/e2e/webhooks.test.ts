/**
 * End to end: webhooks from the real edge (`wrangler dev`) to a real receiver (node:http on
 * 127.0.0.1), for tasks a real runner runs. The stack allows local callback URLs
 * (`WEBHOOKS_ALLOW_LOCAL=true`) and runs a fast retry schedule set through configuration
 * (`WEBHOOK_RETRY_SCHEDULE_SECONDS=0,0.3,0.3`), so every retry goes through the same alarm
 * code as in production, only sooner. Signatures are checked by `standardwebhooks`.
 */
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CreateTaskInput } from "#api/task-request.js";
import { DeadLetterList, DeliveryList, WebhookEvent, WebhookSecret, type Delivery } from "#api/webhooks.js";
import { startWebhookReceiver, type Script, type WebhookReceiver } from "../support/webhook-receiver.js";
import { startStack, type Stack } from "./local-stack.js";

let stack: Stack;
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  stack = await startStack({
    vars: { WEBHOOKS_ALLOW_LOCAL: "true", WEBHOOK_RETRY_SCHEDULE_SECONDS: "0,0.3,0.3", WEBHOOK_TIMEOUT_SECONDS: "5" },
  });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
});

async function api<T>(path: string, init: { method?: string; json?: unknown } = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${stack.edgeUrl}/api/v1${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${stack.adminKey}`, ...(init.json === undefined ? {} : { "content-type": "application/json" }) },
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
  return { status: res.status, body: (await res.json()) as T };
}

let hooks = 0;
function hook(script: Script): { name: string; url: string } {
  const name = `e2e${++hooks}`;
  receiver.script(name, script);
  return { name, url: `${receiver.url}/hook/${name}` };
}

async function submit(callbackUrl: string, extra: Partial<CreateTaskInput> = {}): Promise<string> {
  const task = await stack.client.createTask({
    repo: { url: stack.repoUrl, ref: "main" },
    prompt: "Note the webhook test",
    cli: "demo",
    timeout_seconds: 60,
    callback_url: callbackUrl,
    ...extra,
  });
  return task.id;
}

async function eventually<T>(read: () => Promise<T> | T, done: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`not met within ${timeoutMs} ms: ${JSON.stringify(value).slice(0, 1_500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function deliveriesOf(taskId: string): Promise<Delivery[]> {
  const { status, body } = await api<unknown>(`/tasks/${taskId}/deliveries`);
  expect(status).toBe(200);
  return DeliveryList.parse(body).deliveries;
}

const settled = (list: Delivery[]) => list.length > 0 && list.every((d) => d.status !== "pending");

describe("webhooks, end to end", () => {
  it("delivers a signed task.succeeded that standardwebhooks verifies, with the finished task", async () => {
    const h = hook({});
    const taskId = await submit(h.url, { callback_events: ["task.started", "task.succeeded"] });
    const list = await eventually(
      () => deliveriesOf(taskId),
      (l) => l.length === 2 && settled(l),
    );
    expect(list.map((d) => [d.event_type, d.status])).toEqual([
      ["task.started", "delivered"],
      ["task.succeeded", "delivered"],
    ]);

    const { body: secret } = await api<WebhookSecret>("/webhook-secret");
    const webhook = new Webhook(WebhookSecret.parse(secret).secret);
    const requests = receiver.requests(h.name);
    expect(requests).toHaveLength(2);
    const payloads = requests.map((r) => WebhookEvent.parse(webhook.verify(r.body, r.headers)));
    const succeeded = payloads.find((p) => p.type === "task.succeeded")!;
    expect(succeeded.data.task).toMatchObject({
      id: taskId,
      status: "succeeded",
      result: { exit_code: 0, changed_files: [{ path: "CODEFORGE_NOTES.md", status: "added" }] },
    });
    expect(payloads.find((p) => p.type === "task.started")!.data.task.status).toBe("running");
    for (const r of requests) {
      expect(r.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(r.headers["x-trace-id"]).toBe(r.headers.traceparent!.split("-")[1]);
    }
    // Both events of one task share its trace.
    expect(new Set(requests.map((r) => r.headers["x-trace-id"])).size).toBe(1);
  });

  it("retries a receiver that fails twice and delivers the event exactly once", async () => {
    const h = hook({ responses: [{ status: 500 }, { status: 503 }] });
    const taskId = await submit(h.url);
    const [delivery] = await eventually(() => deliveriesOf(taskId), settled);
    expect(delivery).toMatchObject({ event_type: "task.succeeded", status: "delivered" });
    expect(delivery!.attempts.map((a) => [a.status, a.outcome])).toEqual([
      [500, "retry"],
      [503, "retry"],
      [200, "delivered"],
    ]);
    const requests = receiver.requests(h.name);
    expect(requests.map((r) => r.answeredWith)).toEqual([500, 503, 200]);
    expect(requests.filter((r) => r.answeredWith === 200)).toHaveLength(1);
    expect(new Set(requests.map((r) => r.headers["webhook-id"]))).toEqual(new Set([delivery!.id]));
  });

  it("keeps a delivery that always fails as a dead letter, and redelivery replays it", async () => {
    const h = hook({ default: { status: 500, body: "nope" } });
    const taskId = await submit(h.url);
    const [dead] = await eventually(() => deliveriesOf(taskId), settled);
    expect(dead).toMatchObject({ status: "failed" });
    expect(dead!.attempts).toHaveLength(3);
    expect(receiver.requests(h.name)).toHaveLength(3);
    const listed = await eventually(
      async () => DeadLetterList.parse((await api<unknown>("/dead-letters")).body),
      (l) => l.dead_letters.some((d) => d.delivery_id === dead!.id),
    );
    expect(listed.dead_letters.find((d) => d.delivery_id === dead!.id)).toMatchObject({ task_id: taskId, attempts: 3, last_status: 500 });

    receiver.script(h.name, { default: { status: 200 } });
    const replay = await api<Delivery>(`/tasks/${taskId}/deliveries/${dead!.id}/redeliver`, { method: "POST" });
    expect(replay.status).toBe(202);
    const [redelivered] = await eventually(() => deliveriesOf(taskId), settled);
    expect(redelivered).toMatchObject({ status: "delivered", series: 2 });
    expect(receiver.requests(h.name).map((r) => r.headers["webhook-id"])).toEqual([dead!.id]);
    await eventually(
      async () => DeadLetterList.parse((await api<unknown>("/dead-letters")).body),
      (l) => !l.dead_letters.some((d) => d.delivery_id === dead!.id),
    );
  });

  it("stops at 410 Gone", async () => {
    const h = hook({ default: { status: 410 } });
    const taskId = await submit(h.url);
    const [gone] = await eventually(() => deliveriesOf(taskId), settled);
    expect(gone).toMatchObject({ status: "gone" });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(receiver.requests(h.name)).toHaveLength(1);
  });

  it("refuses a callback URL with credentials even though local URLs are allowed here", async () => {
    const { status, body } = await api<{ error: { code: string; field: string } }>("/tasks", {
      method: "POST",
      json: { repo: { url: stack.repoUrl }, prompt: "x", cli: "demo", callback_url: `http://user:pw@127.0.0.1:1/hook` },
    });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: "validation_failed", field: "callback_url" });
  });
});
