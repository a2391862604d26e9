/**
 * Unit: the pure parts of webhook delivery — the retry schedule and its jitter, and what each
 * kind of answer means for a delivery (delivered, gone, retried when, failed for good).
 */
import { describe, expect, it } from "vitest";
import { judgeAttempt, parseRetryAfter, RETRY_AFTER_MAX_MS, statusError, type AttemptResult } from "../../edge/src/webhooks/delivery-policy.js";
import { DEFAULT_RETRY_SCHEDULE_SECONDS, delayBeforeAttempt, parseRetrySchedule } from "../../edge/src/webhooks/retry-schedule.js";
import { eventsToSend } from "../../edge/src/webhooks/webhook-outbox.js";

const schedule = parseRetrySchedule(DEFAULT_RETRY_SCHEDULE_SECONDS) as number[];
const answer = (status: number | null, extra: Partial<AttemptResult> = {}): AttemptResult => ({
  status,
  latencyMs: 10,
  error: status === 200 ? null : "x",
  retryAfterMs: null,
  responseExcerpt: null,
  ...extra,
});
const judge = (result: AttemptResult, attemptNumber: number, random = () => 0.5) =>
  judgeAttempt(result, { attemptNumber, schedule, jitter: 0.1, now: 1_000_000, random });

describe("retry schedule", () => {
  it("defaults to ten attempts over about three days", () => {
    expect(schedule.map((ms) => ms / 1_000)).toEqual([0, 5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400]);
    expect(schedule.reduce((a, b) => a + b, 0) / 3_600_000).toBeCloseTo(75.6, 1);
  });

  it("parses fractions, and names what is wrong with a bad setting", () => {
    expect(parseRetrySchedule("0, 0.2,1.5")).toEqual([0, 200, 1_500]);
    expect(parseRetrySchedule("0,-1")).toMatch(/"-1" is not a number of seconds/);
    expect(parseRetrySchedule("0,abc")).toMatch(/"abc"/);
    expect(parseRetrySchedule("")).toMatch(/""/);
    expect(parseRetrySchedule(Array(31).fill("1").join(","))).toMatch(/1 to 30 delays/);
  });

  it("jitters each delay by at most ±10%, and ends after the last attempt", () => {
    expect(delayBeforeAttempt(schedule, 2, 0.1, () => 0)).toBe(4_500);
    expect(delayBeforeAttempt(schedule, 2, 0.1, () => 1)).toBe(5_500);
    expect(delayBeforeAttempt(schedule, 2, 0.1, () => 0.5)).toBe(5_000);
    expect(delayBeforeAttempt(schedule, 1, 0.1, () => 1)).toBe(0);
    expect(delayBeforeAttempt(schedule, 10, 0, Math.random)).toBe(86_400_000);
    expect(delayBeforeAttempt(schedule, 11, 0.1, Math.random)).toBeNull();
  });
});

describe("judging an attempt", () => {
  it("counts only 2xx as delivered", () => {
    for (const status of [200, 201, 202, 204, 299]) expect(judge(answer(status), 1)).toEqual({ outcome: "delivered" });
    for (const status of [100, 199, 301, 302, 304, 307, 308, 400, 401, 404, 409, 429, 500, 502, 503]) {
      expect(judge(answer(status), 1)).toEqual({ outcome: "retry", nextAttemptAt: 1_005_000 });
    }
    expect(judge(answer(null), 3)).toEqual({ outcome: "retry", nextAttemptAt: 1_000_000 + 1_800_000 });
  });

  it("stops at 410 Gone, and at a URL the edge refused to send to", () => {
    expect(judge(answer(410), 1)).toEqual({ outcome: "gone" });
    expect(judge(answer(null, { refused: true }), 1)).toEqual({ outcome: "failed" });
  });

  it("fails for good after the last attempt of the schedule", () => {
    expect(judge(answer(500), 9)).toEqual({ outcome: "retry", nextAttemptAt: 1_000_000 + 86_400_000 });
    expect(judge(answer(500), 10)).toEqual({ outcome: "failed" });
  });

  it("lets Retry-After push the next attempt later, never sooner, and at most a day", () => {
    expect(judge(answer(503, { retryAfterMs: 60_000 }), 1)).toEqual({ outcome: "retry", nextAttemptAt: 1_060_000 });
    expect(judge(answer(429, { retryAfterMs: 1_000 }), 1)).toEqual({ outcome: "retry", nextAttemptAt: 1_005_000 });
    expect(judge(answer(503, { retryAfterMs: 30 * 86_400_000 }), 1)).toEqual({ outcome: "retry", nextAttemptAt: 1_000_000 + RETRY_AFTER_MAX_MS });
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:10:00 GMT", now)).toBe(600_000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 00:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });

  it("explains redirects and statuses", () => {
    expect(statusError(302, "https://elsewhere.example/x")).toMatch(/redirect 302 not followed \(Location: https:\/\/elsewhere.example\/x\)/);
    expect(statusError(500, null)).toBe("receiver answered 500");
  });
});

describe("which status changes become webhooks", () => {
  const change = (status: "queued" | "leased" | "running" | "succeeded" | "failed" | "timed_out" | "canceled") => ({ status, runnerId: null, error: null });
  it("sends the terminal events by default, the listed ones otherwise, none without a callback_url", () => {
    const url = "https://hooks.example.com/x";
    expect(
      eventsToSend(
        { callback_url: url },
        ["queued", "leased", "running", "succeeded"].map((s) => change(s as "queued")),
      ),
    ).toEqual(["task.succeeded"]);
    expect(eventsToSend({ callback_url: url }, [change("timed_out")])).toEqual(["task.timed_out"]);
    expect(eventsToSend({ callback_url: url, callback_events: ["task.started"] }, [change("running")])).toEqual(["task.started"]);
    expect(eventsToSend({ callback_url: url, callback_events: ["task.started"] }, [change("failed")])).toEqual([]);
    expect(eventsToSend({}, [change("succeeded")])).toEqual([]);
  });
});
