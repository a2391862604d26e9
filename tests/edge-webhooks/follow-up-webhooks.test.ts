/**
 * Integration: each iteration of a task (the first, then each follow-up) ends with its own
 * webhook delivery to a real receiver, and the payload names the iteration it reports.
 */
import { describe, expect, it } from "vitest";
import { Task } from "#api/task.js";
import { WebhookEvent } from "#api/webhooks.js";
import { apiFetch, createTask, uniquePool } from "../edge/api-client.js";
import { complete, sampleResult, startRunning } from "../edge/runner-client.js";
import { deliveries, newHook, received, waitFor } from "./receiver-client.js";

async function runToEnd(pool: string, outcome: "succeeded" | "failed"): Promise<void> {
  const lease = await startRunning(pool);
  const result = { ...sampleResult(), base_commit_sha: "d".repeat(40) };
  const res = await complete(lease.task_id, lease.lease_id, { outcome, last_batch_seq: 0, result });
  expect(res.status).toBe(200);
}

describe("webhooks of follow-ups", () => {
  it("sends one delivery per iteration's end, each naming its iteration", async () => {
    const pool = uniquePool();
    const hook = await newHook();
    const task = await createTask({ pool, callback_url: hook.url });
    await runToEnd(pool, "succeeded");
    await waitFor(
      () => received(hook.name),
      (r) => r.length === 1,
    );

    const res = await apiFetch(`/api/v1/tasks/${task.id}/instructions`, { json: { prompt: "Now the tests" } });
    expect(res.status).toBe(202);
    expect(Task.parse(await res.json()).iteration).toBe(2);
    await runToEnd(pool, "failed");

    const requests = await waitFor(
      () => received(hook.name),
      (r) => r.length === 2,
    );
    const payloads = requests.map((r) => WebhookEvent.parse(JSON.parse(r.body)));
    expect(payloads.map((p) => [p.type, p.data.task.iteration, p.data.task.prompt])).toEqual([
      ["task.succeeded", 1, "Add a README"],
      ["task.failed", 2, "Now the tests"],
    ]);
    expect(payloads[1]!.data.task.iterations.map((i) => i.status)).toEqual(["succeeded", "failed"]);
    const list = await waitFor(
      () => deliveries(task.id),
      (d) => d.length === 2 && d.every((x) => x.status === "delivered"),
    );
    expect(list.map((d) => [d.event_type, d.iteration])).toEqual([
      ["task.succeeded", 1],
      ["task.failed", 2],
    ]);
    expect(new Set(list.map((d) => d.id)).size).toBe(2);
  });
});
