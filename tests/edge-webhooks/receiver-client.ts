/**
 * The webhook receiver (a real node:http server started by globalSetup) as tests in workerd
 * reach it: script a hook, read what it received. And the webhook API as a client sees it.
 * @module
 */
import { expect, inject } from "vitest";
import { DeliveryList, WebhookSecret, type Delivery } from "#api/webhooks.js";
import type { ReceivedRequest, Script } from "../support/webhook-receiver-protocol.js";
import { apiFetch } from "../edge/api-client.js";

const receiverUrl = () => inject("webhookReceiverUrl");

/** A fresh hook on the receiver answering as `script` says; returns its callback URL and name. */
export async function newHook(script: Script = {}): Promise<{ name: string; url: string }> {
  const name = `h${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const res = await fetch(`${receiverUrl()}/control/${name}`, { method: "PUT", body: JSON.stringify(script) });
  expect(res.status).toBe(204);
  return { name, url: `${receiverUrl()}/hook/${name}` };
}

/** Every request the hook received so far, oldest first. */
export async function received(name: string): Promise<ReceivedRequest[]> {
  const res = await fetch(`${receiverUrl()}/control/${name}`);
  return ((await res.json()) as { requests: ReceivedRequest[] }).requests;
}

/** The task's deliveries, as `GET /api/v1/tasks/:id/deliveries` answers. */
export async function deliveries(taskId: string): Promise<Delivery[]> {
  const res = await apiFetch(`/api/v1/tasks/${taskId}/deliveries`);
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(200);
  return DeliveryList.parse(body).deliveries;
}

export async function webhookSecret(): Promise<WebhookSecret> {
  const res = await apiFetch("/api/v1/webhook-secret");
  expect(res.status).toBe(200);
  return WebhookSecret.parse(await res.json());
}

/** Polls `read` until `done` holds (the alarm runs on its own for attempts due now). */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  // performance.now(), not Date.now(): tests move Date (fake clock) to make retries due.
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value).slice(0, 2_000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the task's only delivery has `count` finished attempts; returns it. */
export async function afterAttempts(taskId: string, count: number): Promise<Delivery> {
  const [delivery] = await waitFor(
    () => deliveries(taskId),
    (list) => list.length === 1 && list[0]!.attempts.filter((a) => a.outcome !== null).length >= count,
  );
  return delivery!;
}
