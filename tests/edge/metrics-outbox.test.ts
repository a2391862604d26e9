/**
 * Integration: a task object's metric reports wait in its own storage until the `Metrics`
 * object took them — a failed send keeps them (the alarm retries them), a later
 * send delivers them once — inside a real task object (`runInDurableObject`).
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { hasStagedSamples, OUTBOX_ENTRIES_MAX, sendStagedSamples, stageSamples } from "../../edge/src/metrics/metrics-outbox.js";
import type { Sample } from "../../edge/src/metrics/samples.js";
import { createTask, taskObjectOf, uniquePool } from "./api-client.js";

const sample = (status: string): Sample => ({ name: "codeforge_tasks_total", labels: { status }, value: 1 });

describe("metrics outbox", () => {
  it("keeps reports through a failed send and delivers them once on the next", async () => {
    const task = await createTask({ pool: uniquePool() });
    await runInDurableObject(taskObjectOf(task.id), async (_instance, state) => {
      const kv = state.storage.kv;
      stageSamples(kv, [sample("succeeded")], 1);
      stageSamples(kv, [sample("failed")], 2);
      await expect(sendStagedSamples(kv, async () => Promise.reject(new Error("metrics object unavailable")))).rejects.toThrow("unavailable");
      expect(hasStagedSamples(kv)).toBe(true);

      const sent: Sample[][] = [];
      expect(await sendStagedSamples(kv, async (s) => void sent.push(s))).toBe(2);
      expect(sent).toEqual([[sample("succeeded"), sample("failed")]]);
      expect(hasStagedSamples(kv)).toBe(false);
      expect(await sendStagedSamples(kv, async (s) => void sent.push(s))).toBe(0);
      expect(sent).toHaveLength(1);
    });
  });

  it("keeps only the newest entries when reports pile up", async () => {
    const task = await createTask({ pool: uniquePool() });
    await runInDurableObject(taskObjectOf(task.id), async (_instance, state) => {
      const kv = state.storage.kv;
      for (let i = 0; i < OUTBOX_ENTRIES_MAX + 5; i++) stageSamples(kv, [{ name: "codeforge_tasks_total", labels: { status: `s${i}` }, value: 1 }], 1_000 + i);
      let all: Sample[] = [];
      await sendStagedSamples(kv, async (s) => void (all = s));
      expect(all).toHaveLength(OUTBOX_ENTRIES_MAX);
      expect(all[0]!.labels.status).toBe("s5");
    });
  });
});
