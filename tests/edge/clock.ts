/**
 * Moves the clock forward for lease, timeout and cancel-grace deadlines.
 *
 * The Worker and its Durable Objects run in the test's isolate, so faking `Date` here is the
 * time they read too. Only `Date` is faked: timers (long polls) keep real time. Then
 * `runDurableObjectAlarm` fires the object's alarm, which decides from the moved clock.
 * @module
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, expect, vi } from "vitest";
import { taskObjectOf } from "./api-client.js";

afterEach(() => {
  vi.useRealTimers();
});

/** Moves `Date.now()` forward by `ms` (cumulative within a test; reset after each test). */
export function advanceClock(ms: number): void {
  const now = Date.now();
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(now + ms);
}

/** Runs the task's pending alarm now; fails the test if none was scheduled. */
export async function fireAlarm(taskId: string): Promise<void> {
  expect(await runDurableObjectAlarm(taskObjectOf(taskId))).toBe(true);
}
