/**
 * Integration: a task's callback URL through the real Worker, under the default policy
 * (`WEBHOOKS_ALLOW_LOCAL` off): public https URLs are kept (normalized); every request-forgery
 * attempt is a 400 naming `callback_url`; `callback_events` is validated.
 */
import { describe, expect, it } from "vitest";
import { apiFetch, createTask, expectError, getTask, taskSpec, uniquePool } from "./api-client.js";

const post = (overrides: Record<string, unknown>) => apiFetch("/api/v1/tasks", { json: { ...taskSpec({ pool: uniquePool() }), ...overrides } });

describe("callback_url", () => {
  it("is kept, normalized, with the default events, and shown on the task", async () => {
    const task = await createTask({ pool: uniquePool(), callback_url: "https://Hooks.Example.com/codeforge?token=abc" });
    expect(task).toMatchObject({
      callback_url: "https://hooks.example.com/codeforge?token=abc",
      callback_events: ["task.succeeded", "task.failed", "task.timed_out", "task.canceled"],
    });
    expect(task.links.deliveries).toBe(`/api/v1/tasks/${task.id}/deliveries`);
    expect(await getTask(task.id)).toMatchObject({ callback_url: "https://hooks.example.com/codeforge?token=abc" });
    const plain = await createTask({ pool: uniquePool() });
    expect(plain).toMatchObject({ callback_url: null, callback_events: [] });
  });

  it.each([
    ["http://hooks.example.com/x", /https/],
    ["https://127.0.0.1/x", /loopback/],
    ["https://2130706433/x", /loopback/],
    ["https://0x7f.1/x", /loopback/],
    ["https://[::1]/x", /loopback/],
    ["https://[::ffff:127.0.0.1]/x", /loopback/],
    ["https://169.254.169.254/latest/meta-data/iam", /link-local/],
    ["https://metadata.google.internal/computeMetadata/v1/", /metadata host/],
    ["https://localhost:8080/x", /local/],
    ["https://10.1.2.3/x", /private/],
    ["https://192.168.0.10/x", /private/],
    ["https://100.100.100.200/x", /carrier-grade NAT/],
    ["https://[fd00::1]/x", /unique-local/],
    ["https://[fe80::1]/x", /link-local/],
    ["https://0.0.0.0/x", /this network/],
    ["https://admin:hunter2@hooks.example.com/x", /credentials/],
    ["gopher://hooks.example.com/x", /https/],
  ])("refuses %s with 400 naming callback_url", async (url, reason) => {
    const body = await expectError(await post({ callback_url: url }), 400, "validation_failed", "callback_url");
    expect(body.error.message).toMatch(reason);
  });

  it("validates callback_events", async () => {
    await expectError(await post({ callback_events: ["task.succeeded"] }), 400, "validation_failed", "callback_events");
    await expectError(
      await post({ callback_url: "https://hooks.example.com/x", callback_events: ["task.exploded"] }),
      400,
      "validation_failed",
      "callback_events.0",
    );
    await expectError(await post({ callback_url: "https://hooks.example.com/x", callback_events: [] }), 400, "validation_failed", "callback_events");
    await expectError(
      await post({ callback_url: "https://hooks.example.com/x", callback_events: ["task.started", "task.started"] }),
      400,
      "validation_failed",
      "callback_events",
    );
    const task = await createTask({ pool: uniquePool(), callback_url: "https://hooks.example.com/x", callback_events: ["task.started", "task.succeeded"] });
    expect(task.callback_events).toEqual(["task.started", "task.succeeded"]);
  });

  it("lists no deliveries for a task that has sent nothing yet", async () => {
    const task = await createTask({ pool: uniquePool(), callback_url: "https://hooks.example.com/x" });
    const res = await apiFetch(`/api/v1/tasks/${task.id}/deliveries`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deliveries: [] });
    await expectError(await apiFetch("/api/v1/tasks/tsk_01m83y4f39jm8qj0snr5pz3q5b/deliveries"), 404, "not_found");
  });
});
