/**
 * The low limits the `edge-upstash` project's Worker runs with, so its tests can reach them.
 * Imported by `vitest.edge.config.ts` (bindings) and by the tests (expectations).
 * @module
 */
export const UPSTASH_TEST_LIMITS = {
  RATE_LIMIT_REQUESTS_PER_MINUTE: "100",
  RATE_LIMIT_TASKS_PER_MINUTE: "3",
  RATE_LIMIT_STREAMS_PER_MINUTE: "3",
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: "3",
  RATE_LIMIT_AUTH_FAILURES_BEFORE_BLOCK: "50",
  STREAM_MAX_WATCHERS_PER_TASK: "2",
  STREAM_FULL_STATUS: "503",
  // An SSE watcher that hung up is noticed at the next write to it: soon, for the cap's test.
  STREAM_SSE_HEARTBEAT_SECONDS: "0.5",
  // Generous: these tests are about the limits, not the backend's timeout (which fails reads
  // open, see rate-limit-fail-policy.test.ts); on a loaded machine 500 ms was sometimes passed.
  RATE_LIMIT_REDIS_TIMEOUT_MS: "5000",
} as const;
