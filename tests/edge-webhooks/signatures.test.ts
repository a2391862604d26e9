/**
 * Integration: a task's webhook reaches a real receiver signed per Standard Webhooks, verified
 * by the independent `standardwebhooks` library with the secret `GET /api/v1/webhook-secret`
 * shows; the payload is the task as the API shows it, without secrets; trace headers carry the
 * task's own trace, not one a client sent. Rotation signs with both secrets for the overlap.
 */
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { WebhookEvent } from "#api/webhooks.js";
import { apiFetch, createTask, getTask, uniquePool } from "../edge/api-client.js";
import { complete, sampleResult, startRunning } from "../edge/runner-client.js";
import { afterAttempts, deliveries, newHook, received, webhookSecret } from "./receiver-client.js";

async function runToSuccess(pool: string): Promise<void> {
  const lease = await startRunning(pool);
  const res = await complete(lease.task_id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: sampleResult() });
  expect(res.status).toBe(200);
}

describe("signed webhooks", () => {
  it("delivers task.succeeded once, verifiable with standardwebhooks, with the task view and no secrets", async () => {
    const pool = uniquePool();
    const hook = await newHook();
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const task = await createTask(
      { pool, callback_url: hook.url, access_token: "ghp_supersecrettoken0123456789", env: { ANTHROPIC_API_KEY: "sk-ant-secret-value-42" }, max_cost_usd: 3 },
      { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    );
    expect(task).toMatchObject({ callback_url: hook.url, callback_events: ["task.succeeded", "task.failed", "task.timed_out", "task.canceled"] });
    await runToSuccess(pool);

    const delivery = await afterAttempts(task.id, 1);
    expect(delivery).toMatchObject({ event_type: "task.succeeded", status: "delivered", series: 1, url: hook.url, next_attempt_at: null });
    expect(delivery.attempts).toEqual([
      expect.objectContaining({ series: 1, attempt: 1, status: 200, error: null, outcome: "delivered", response_excerpt: "ok" }),
    ]);

    const [request, ...more] = await received(hook.name);
    expect(more).toEqual([]);
    expect(request!.method).toBe("POST");
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(request!.headers["webhook-id"]).toBe(delivery.id);
    expect(request!.headers["user-agent"]).toMatch(/^CodeForge-Webhooks\//);
    // The receiver's side: the library checks the signature and the timestamp, and returns the payload.
    const { secret } = await webhookSecret();
    const payload = WebhookEvent.parse(new Webhook(secret).verify(request!.body, request!.headers));
    expect(payload.type).toBe("task.succeeded");
    expect(payload.data.task).toEqual({ ...(await getTask(task.id)), waiting_reason: null });
    expect(payload.data.task).toMatchObject({ status: "succeeded", has_access_token: true, env_names: ["ANTHROPIC_API_KEY"], result: sampleResult() });
    // The budget and what the run cost arrive with it, as the runner reported them.
    expect(payload.data.task).toMatchObject({
      max_cost_usd: 3,
      max_tokens: null,
      max_turns: null,
      result: { cost_usd: 0.0123, usage_source: "cli", patch_masked: false },
    });
    expect(payload.data.task.result!.cli_reported).toEqual(sampleResult().cli_reported);
    expect(request!.body).not.toContain("ghp_supersecrettoken");
    expect(request!.body).not.toContain("sk-ant-secret-value");
    // Another secret does not verify it.
    expect(() => new Webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").verify(request!.body, request!.headers)).toThrow();
    // Trace: the task's own, never the one a client sent (that one is only linked, when tracing is on).
    expect(request!.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(request!.headers["x-trace-id"]).toBe(request!.headers.traceparent!.split("-")[1]);
    expect(request!.headers["x-trace-id"]).not.toBe(traceId);
    expect(request!.headers.traceparent).not.toContain("00f067aa0ba902b7");
  });

  it("starts a trace for a task created without traceparent, and sends only the events it asked for", async () => {
    const pool = uniquePool();
    const hook = await newHook();
    const task = await createTask({ pool, callback_url: hook.url, callback_events: ["task.started", "task.failed"] });
    const lease = await startRunning(pool);
    await complete(lease.task_id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: sampleResult() });

    const list = await deliveries(task.id);
    expect(list.map((d) => d.event_type)).toEqual(["task.started"]);
    await afterAttempts(task.id, 1);
    const [request] = await received(hook.name);
    const payload = WebhookEvent.parse(JSON.parse(request!.body));
    expect(payload.data.task.status).toBe("running");
    expect(request!.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(request!.headers.traceparent!.split("-")[1]).toBe(request!.headers["x-trace-id"]);
  });

  it("shows the same secret until rotated; during the overlap deliveries carry both signatures", async () => {
    const before = await webhookSecret();
    expect(before.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect((await webhookSecret()).secret).toBe(before.secret);
    const shown = await apiFetch("/api/v1/webhook-secret");
    expect(shown.headers.get("cache-control")).toBe("no-store");

    const rotated = await apiFetch("/api/v1/webhook-secret/rotate", { method: "POST", json: { overlap_seconds: 3_600 } });
    expect(rotated.status).toBe(200);
    const after = WebhookSecretBody(await rotated.json());
    expect(after.secret).not.toBe(before.secret);
    expect(Date.parse(after.previous_secret_expires_at!) - Date.now()).toBeGreaterThan(3_500_000);

    const pool = uniquePool();
    const hook = await newHook();
    const task = await createTask({ pool, callback_url: hook.url });
    await runToSuccess(pool);
    await afterAttempts(task.id, 1);
    const [request] = await received(hook.name);
    expect(request!.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    for (const secret of [before.secret, after.secret]) expect(() => new Webhook(secret).verify(request!.body, request!.headers)).not.toThrow();

    // A rotation without overlap: only the newest secret signs from now on.
    const bare = await apiFetch("/api/v1/webhook-secret/rotate", { method: "POST" });
    const newest = WebhookSecretBody(await bare.json());
    expect(bare.status).toBe(200);
    const noOverlap = await apiFetch("/api/v1/webhook-secret/rotate", { method: "POST", json: { overlap_seconds: 0 } });
    const last = WebhookSecretBody(await noOverlap.json());
    expect(last.previous_secret_expires_at).toBeNull();
    const pool2 = uniquePool();
    const hook2 = await newHook();
    const task2 = await createTask({ pool: pool2, callback_url: hook2.url });
    await runToSuccess(pool2);
    await afterAttempts(task2.id, 1);
    const [request2] = await received(hook2.name);
    expect(request2!.headers["webhook-signature"]!.split(" ")).toHaveLength(1);
    expect(() => new Webhook(last.secret).verify(request2!.body, request2!.headers)).not.toThrow();
    expect(() => new Webhook(newest.secret).verify(request2!.body, request2!.headers)).toThrow();
  });

  it("refuses a bad rotation request naming the field", async () => {
    const res = await apiFetch("/api/v1/webhook-secret/rotate", { method: "POST", json: { overlap_seconds: -1 } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { field: string } }).error.field).toBe("overlap_seconds");
  });
});

function WebhookSecretBody(body: unknown) {
  return body as { secret: string; previous_secret_expires_at: string | null };
}
