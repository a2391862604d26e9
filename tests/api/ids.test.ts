/** Task ids sort by time, look alike, and idempotency keys map to one id per owner. */
import { describe, expect, it } from "vitest";
import { idempotentTaskId, newLeaseId, newTaskId, TASK_ID_PATTERN } from "#api/ids.js";

describe("ids", () => {
  it("makes well-formed, distinct task ids that sort by creation time", () => {
    const a = newTaskId(1_700_000_000_000);
    const b = newTaskId(1_700_000_000_001);
    expect(a).toMatch(TASK_ID_PATTERN);
    expect(a < b).toBe(true);
    expect(new Set(Array.from({ length: 1000 }, () => newTaskId())).size).toBe(1000);
  });

  it("derives the same id for the same owner and key, another for another owner", async () => {
    const one = await idempotentTaskId("owner-a", "key-1");
    expect(one).toMatch(TASK_ID_PATTERN);
    expect(await idempotentTaskId("owner-a", "key-1")).toBe(one);
    expect(await idempotentTaskId("owner-b", "key-1")).not.toBe(one);
    expect(await idempotentTaskId("owner-a", "key-2")).not.toBe(one);
  });

  it("makes long random lease ids", () => {
    const lease = newLeaseId();
    expect(lease).toMatch(/^lse_[0-9a-z]{32}$/);
    expect(newLeaseId()).not.toBe(lease);
  });
});
