/**
 * Integration: `GET /api/v1/tasks/:id/events?since=&limit=` pages through a task's log in
 * order; following `next_since` visits every event once.
 */
import { describe, expect, it } from "vitest";
import { apiFetch, createTask, eventsPage, expectError, uniquePool } from "./api-client.js";
import { outputEvents, postEvents, startRunning } from "./runner-client.js";

describe("events page", () => {
  it("pages the whole log with since and limit, each event exactly once", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool); // seq 1..3
    await postEvents(task.id, lease.lease_id, 1, outputEvents(7)); // seq 4..10

    const seen: number[] = [];
    const pages: { size: number; has_more: boolean; next_since: number }[] = [];
    let since = 0;
    for (;;) {
      const page = await eventsPage(task.id, { since, limit: 4 });
      expect(page.status).toBe("running");
      seen.push(...page.events.map((e) => e.seq));
      pages.push({ size: page.events.length, has_more: page.has_more, next_since: page.next_since });
      if (!page.has_more) break;
      since = page.next_since;
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(pages).toEqual([
      { size: 4, has_more: true, next_since: 4 },
      { size: 4, has_more: true, next_since: 8 },
      { size: 2, has_more: false, next_since: 10 },
    ]);
  });

  it("says has_more false when a page ends exactly at the last event", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    await startRunning(pool); // 3 events
    expect(await eventsPage(task.id, { since: 0, limit: 3 })).toMatchObject({ has_more: false, next_since: 3 });
  });

  it("returns the events after since, with their envelope and body", async () => {
    const pool = uniquePool();
    const task = await createTask({ pool });
    const lease = await startRunning(pool, "runner-x");
    await postEvents(task.id, lease.lease_id, 1, outputEvents(2));

    const page = await eventsPage(task.id, { since: 2, limit: 2 });
    expect(page.events).toEqual([
      { seq: 3, ts: expect.any(String), iteration: 1, attempt: 1, type: "status", status: "running", runner_id: "runner-x", error: null },
      { seq: 4, ts: expect.any(String), iteration: 1, attempt: 1, type: "output", stream: "stdout", text: "line 1\n", offset: 0 },
    ]);
    expect(Number.isNaN(Date.parse(page.events[0]!.ts))).toBe(false);
    expect(page).toMatchObject({ next_since: 4, has_more: true });
  });

  it("answers an empty page past the end, keeping since as next_since", async () => {
    const task = await createTask({ pool: uniquePool() });
    expect(await eventsPage(task.id, { since: 50 })).toEqual({ events: [], next_since: 50, has_more: false, status: "queued" });
    expect((await eventsPage(task.id)).events.map((e) => e.seq)).toEqual([1]);
  });

  it("refuses bad paging parameters with a 400 naming them", async () => {
    const task = await createTask({ pool: uniquePool() });
    const path = `/api/v1/tasks/${task.id}/events`;
    await expectError(await apiFetch(`${path}?limit=0`), 400, "validation_failed", "limit");
    await expectError(await apiFetch(`${path}?limit=1001`), 400, "validation_failed", "limit");
    await expectError(await apiFetch(`${path}?limit=ten`), 400, "validation_failed", "limit");
    await expectError(await apiFetch(`${path}?since=-1`), 400, "validation_failed", "since");
    await expectError(await apiFetch(`${path}?since=1.5`), 400, "validation_failed", "since");
    await expectError(await apiFetch(`${path}?cursor=abc`), 400, "validation_failed", "cursor");
    await expectError(await apiFetch("/api/v1/tasks/tsk_0000000000aaaaaaaaaaaaaaaa/events"), 404, "not_found");
  });
});
