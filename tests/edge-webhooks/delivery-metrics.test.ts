/**
 * Integration: webhook attempts are counted on `/metrics` by outcome, reported by the task
 * object from its own alarm turn, against a real receiver.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createTask, ORIGIN, uniquePool } from "../edge/api-client.js";
import { parseExposition, metricValue } from "../edge/prometheus-text.js";
import { complete, sampleResult, startRunning } from "../edge/runner-client.js";
import { afterAttempts, newHook } from "./receiver-client.js";

async function deliveries(status: string): Promise<number> {
  const res = await SELF.fetch(`${ORIGIN}/metrics`);
  expect(res.status).toBe(200);
  return metricValue(parseExposition(await res.text()), "codeforge_webhook_deliveries_total", { status });
}

async function until(read: () => Promise<number>, target: number): Promise<number> {
  const deadline = Date.now() + 5_000;
  let value = await read();
  while (value < target && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    value = await read();
  }
  return value;
}

describe("webhook delivery metrics", () => {
  it("counts a failed attempt as retry and a delivered one as delivered", async () => {
    const [retryBefore, deliveredBefore] = [await deliveries("retry"), await deliveries("delivered")];
    const pool = uniquePool();
    const failing = await newHook({ default: { status: 500 } });
    const working = await newHook({ default: { status: 200 } });
    await createTask({ pool, callback_url: failing.url, callback_events: ["task.started"] });
    await startRunning(pool);
    const other = await createTask({ pool, callback_url: working.url });
    const lease = await startRunning(pool);
    expect((await complete(other.id, lease.lease_id, { outcome: "succeeded", last_batch_seq: 0, result: sampleResult() })).status).toBe(200);
    await afterAttempts(other.id, 1);

    expect(await until(() => deliveries("retry"), retryBefore + 1)).toBe(retryBefore + 1);
    expect(await until(() => deliveries("delivered"), deliveredBefore + 1)).toBe(deliveredBefore + 1);
  });
});
