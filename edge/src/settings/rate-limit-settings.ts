/**
 * The client rate limits (docs/rate-limits.md): their rates, the auth-failure lockout, the
 * backend (Upstash Redis when both its settings are there, else the `RateLimiter` Durable
 * Objects) and what a failing backend does to each policy.
 * @module
 */
import { z } from "zod";
import { booleanSetting, CommaList, numberSetting } from "#api/settings.js";
import { type ConfigOf, settingsSlice } from "./settings-slice.js";

/** Rate-limit policies a backend failure can be configured to fail closed for. */
export const RATE_LIMIT_POLICIES = ["requests", "tasks", "streams", "auth"] as const;
export type RateLimitPolicyName = (typeof RATE_LIMIT_POLICIES)[number];

const perMinute = (defaultValue: number) => numberSetting(z.number().int().min(1).default(defaultValue));
const seconds = (min: number, max: number, defaultValue: number) =>
  numberSetting(z.number().int().min(min).max(max).default(defaultValue)).transform((s) => s * 1_000);
/** Unset or blank: none (the Durable Object backend). */
const optionalText = <T extends z.ZodType<string>>(schema: T) => z.preprocess((text) => (text === "" ? undefined : text), schema.optional());

export const RateLimitSettings = settingsSlice(
  {
    /** False turns every client limit off (benchmarks; never in production). */
    enabled: ["RATE_LIMIT_ENABLED", booleanSetting(true)],
    /** Upstash REST endpoint; with `upstashToken`, the limiter's backend. */
    upstashUrl: ["UPSTASH_REDIS_REST_URL", optionalText(z.url({ protocol: /^https?$/, error: "UPSTASH_REDIS_REST_URL must be an http(s) URL" }))],
    upstashToken: ["UPSTASH_REDIS_REST_TOKEN", z.string().optional()],
    /** Any /api/v1 request, per API key. */
    requestsPerMinute: ["RATE_LIMIT_REQUESTS_PER_MINUTE", perMinute(600)],
    /** `POST /api/v1/tasks`, per API key. */
    tasksPerMinute: ["RATE_LIMIT_TASKS_PER_MINUTE", perMinute(10)],
    /** New stream connections, per client address (per API key when there is none). */
    streamsPerMinute: ["RATE_LIMIT_STREAMS_PER_MINUTE", perMinute(60)],
    /** Failed authentications per client address (else per presented key) per minute before it gets 429 (Retry-After up to 60). */
    authFailuresPerMinute: ["RATE_LIMIT_AUTH_FAILURES_PER_MINUTE", perMinute(10)],
    /** Failed authentications per address (else per presented key) within `authFailureWindowMs` that block it for `authBlockMs`. */
    authFailuresBeforeBlock: ["RATE_LIMIT_AUTH_FAILURES_BEFORE_BLOCK", perMinute(50)],
    authFailureWindowMs: ["RATE_LIMIT_AUTH_FAILURE_WINDOW_SECONDS", seconds(60, 86_400, 600)],
    authBlockMs: ["RATE_LIMIT_AUTH_BLOCK_SECONDS", seconds(1, 604_800, 3_600)],
    /** Policies refused (503) rather than waved through when the backend fails; blank: none. */
    failClosed: [
      "RATE_LIMIT_FAIL_CLOSED",
      CommaList.pipe(z.array(z.enum(RATE_LIMIT_POLICIES, { error: `RATE_LIMIT_FAIL_CLOSED lists policies among ${RATE_LIMIT_POLICIES.join(", ")}` })))
        .default(["tasks"])
        .transform((policies): ReadonlySet<RateLimitPolicyName> => new Set(policies)),
    ],
    /** Per Redis call; past it the fail policy applies. */
    redisTimeoutMs: ["RATE_LIMIT_REDIS_TIMEOUT_MS", numberSetting(z.number().int().min(10).max(30_000).default(500))],
    /** `RateLimiter` objects keys are spread over by their hash (Durable Object backend). */
    shards: ["RATE_LIMIT_SHARDS", numberSetting(z.number().int().min(1).max(1_024).default(16))],
  },
  ({ upstashUrl, upstashToken, ...limits }, problem) => {
    if (!upstashUrl !== !upstashToken) {
      problem("UPSTASH_REDIS_REST_URL", "set both UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN, or neither (then rate limits use Durable Objects)");
    }
    /** Upstash REST endpoint and token; null means the `RateLimiter` Durable Object backend. */
    const upstash = upstashUrl && upstashToken ? { url: upstashUrl, token: upstashToken } : null;
    return { ...limits, upstash };
  },
);
export type RateLimitConfig = ConfigOf<typeof RateLimitSettings>;
