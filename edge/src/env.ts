/**
 * The Worker's bindings and its configuration, parsed once per isolate with zod.
 *
 * Nothing else reads `env` vars as untyped strings: routes and objects receive `EdgeConfig`.
 * @module
 */
import { z } from "zod";
import { OUTPUT_MAX_BYTES_DEFAULT } from "../../api/limits.js";
import type { AuditLog } from "./audit/audit-log-object.js";
import type { Dispatcher } from "./dispatcher/dispatcher.js";
import type { KeyStore } from "./keys/key-store-object.js";
import { LOG_LEVELS, type LogConfig } from "./log.js";
import type { Metrics } from "./metrics/metrics-object.js";
import type { RateLimiter } from "./rate-limit/rate-limiter-object.js";
import type { SpendMeter } from "./spend/spend-meter-object.js";
import type { PoolRegistry } from "./registry/pool-registry.js";
import type { TaskObject } from "./task/task-object.js";
import type { TaskIndex } from "./task-index/task-index-object.js";
import type { TracingEnv } from "./tracing/tracing-config.js";
import type { DeadLetters } from "./webhooks/dead-letters.js";
import { DEFAULT_RETRY_SCHEDULE_SECONDS, parseRetrySchedule } from "./webhooks/retry-schedule.js";
import type { WebhookSecrets } from "./webhooks/webhook-secrets.js";

/**
 * The task-secrets key `wrangler dev` uses when `TASK_SECRETS_KEY` is unset and
 * `CODEFORGE_LOCAL_MODE` is on. It is public (it is in this file), so it protects nothing: it
 * only lets local development accept secrets. Outside local mode there is no default.
 */
export const LOCAL_TASK_SECRETS_KEY = "codeforge-local-development-task-secrets-key-not-secret";

export interface Env extends TracingEnv {
  TASKS: DurableObjectNamespace<TaskObject>;
  DISPATCHERS: DurableObjectNamespace<Dispatcher>;
  CODEFORGE_ADMIN_KEY?: string;
  RUNNER_SECRETS?: string;
  CODEFORGE_LOCAL_MODE?: string;
  LEASE_TTL_SECONDS?: string;
  HEARTBEAT_INTERVAL_SECONDS?: string;
  OUTPUT_MAX_BYTES?: string;
  TASK_RETENTION_DAYS?: string;
  RATE_LIMITERS: DurableObjectNamespace<RateLimiter>;
  UPSTASH_REDIS_REST_URL?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
  RATE_LIMIT_ENABLED?: string;
  RATE_LIMIT_REQUESTS_PER_MINUTE?: string;
  RATE_LIMIT_TASKS_PER_MINUTE?: string;
  RATE_LIMIT_STREAMS_PER_MINUTE?: string;
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE?: string;
  RATE_LIMIT_AUTH_FAILURES_BEFORE_BLOCK?: string;
  RATE_LIMIT_AUTH_FAILURE_WINDOW_SECONDS?: string;
  RATE_LIMIT_AUTH_BLOCK_SECONDS?: string;
  RATE_LIMIT_FAIL_CLOSED?: string;
  RATE_LIMIT_REDIS_TIMEOUT_MS?: string;
  RATE_LIMIT_SHARDS?: string;
  STREAM_MAX_WATCHERS_PER_TASK?: string;
  STREAM_FULL_STATUS?: string;
  TASK_SECRETS_KEY?: string;
  POOLS: DurableObjectNamespace<PoolRegistry>;
  KEYS: DurableObjectNamespace<KeyStore>;
  SPEND_METERS: DurableObjectNamespace<SpendMeter>;
  AUDIT: DurableObjectNamespace<AuditLog>;
  CORS_ALLOWED_ORIGINS?: string;
  CLIENT_ADDRESS_HEADER?: string;
  WEBHOOK_SECRETS: DurableObjectNamespace<WebhookSecrets>;
  DEAD_LETTERS: DurableObjectNamespace<DeadLetters>;
  TASK_INDEX: DurableObjectNamespace<TaskIndex>;
  WEBHOOKS_ALLOW_LOCAL?: string;
  WEBHOOK_RETRY_SCHEDULE_SECONDS?: string;
  WEBHOOK_TIMEOUT_SECONDS?: string;
  WEBHOOK_RETRY_JITTER?: string;
  METRICS: DurableObjectNamespace<Metrics>;
  METRICS_TOKEN?: string;
  METRICS_ENABLED?: string;
  METRICS_FLUSH_SECONDS?: string;
  METRICS_FLUSH_REQUESTS?: string;
  LOG_LEVEL?: string;
  LOG_FORMAT?: string;
  LOG_SAMPLE_RATIO?: string;
}

/** Rate-limit policies a backend failure can be configured to fail closed for. */
export const RATE_LIMIT_POLICIES = ["requests", "tasks", "streams", "auth"] as const;
export type RateLimitPolicyName = (typeof RATE_LIMIT_POLICIES)[number];

const flag = z
  .enum(["true", "false", "1", "0", ""])
  .optional()
  .transform((v) => v === "true" || v === "1");

const EdgeConfigSchema = z.object({
  CODEFORGE_ADMIN_KEY: z.string().min(16, "CODEFORGE_ADMIN_KEY must be at least 16 characters").optional(),
  RUNNER_SECRETS: z
    .string()
    .optional()
    .transform((s) => (s ?? "").split(",").map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(z.string().min(16, "each runner secret must be at least 16 characters"))),
  CODEFORGE_LOCAL_MODE: flag,
  LEASE_TTL_SECONDS: z.coerce.number().int().min(5).max(3_600).default(30),
  HEARTBEAT_INTERVAL_SECONDS: z.coerce.number().min(0.5).max(600).default(2),
  OUTPUT_MAX_BYTES: z.coerce.number().int().min(65_536).default(OUTPUT_MAX_BYTES_DEFAULT),
  TASK_RETENTION_DAYS: z.coerce.number({ error: "TASK_RETENTION_DAYS must be a number of days (0: keep forever)" }).min(0).max(36_500).default(30),
  UPSTASH_REDIS_REST_URL: z.url({ protocol: /^https?$/, error: "UPSTASH_REDIS_REST_URL must be an http(s) URL" }).optional().or(z.literal("").transform(() => undefined)),
  UPSTASH_REDIS_REST_TOKEN: z.string().optional(),
  RATE_LIMIT_ENABLED: z.enum(["true", "false", "1", "0", ""]).optional().transform((v) => v !== "false" && v !== "0"),
  RATE_LIMIT_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  RATE_LIMIT_TASKS_PER_MINUTE: z.coerce.number().int().min(1).default(10),
  RATE_LIMIT_STREAMS_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).default(10),
  RATE_LIMIT_AUTH_FAILURES_BEFORE_BLOCK: z.coerce.number().int().min(1).default(50),
  RATE_LIMIT_AUTH_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(60).max(86_400).default(600),
  RATE_LIMIT_AUTH_BLOCK_SECONDS: z.coerce.number().int().min(1).max(604_800).default(3_600),
  RATE_LIMIT_FAIL_CLOSED: z
    .string()
    .optional()
    .transform((s) => (s ?? "tasks").split(",").map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(z.enum(RATE_LIMIT_POLICIES, { error: `RATE_LIMIT_FAIL_CLOSED lists policies among ${RATE_LIMIT_POLICIES.join(", ")}` }))),
  RATE_LIMIT_REDIS_TIMEOUT_MS: z.coerce.number().int().min(10).max(30_000).default(500),
  RATE_LIMIT_SHARDS: z.coerce.number().int().min(1).max(1_024).default(16),
  STREAM_MAX_WATCHERS_PER_TASK: z.coerce.number().int().min(1).default(250),
  STREAM_FULL_STATUS: z.enum(["429", "503"]).default("503"),
  TASK_SECRETS_KEY: z.string().min(32, "TASK_SECRETS_KEY must be at least 32 characters (e.g. openssl rand -base64 32)").optional(),
  CORS_ALLOWED_ORIGINS: z
    .string()
    .optional()
    .transform((s) => (s ?? "").split(",").map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?$/, "each CORS origin is scheme://host[:port], with no path or trailing slash"))),
  // Unset means none: trusting a header by default would trust one a client can set.
  CLIENT_ADDRESS_HEADER: z
    .string()
    .optional()
    .transform((s) => (s ?? "").trim())
    .pipe(z.string().regex(/^[A-Za-z0-9-]{0,64}$/, "CLIENT_ADDRESS_HEADER is the name of the header that carries the client's address (CF-Connecting-IP on Cloudflare), or none"))
    .transform((s) => (s === "" || s.toLowerCase() === "none" ? null : s.toLowerCase())),
  WEBHOOKS_ALLOW_LOCAL: flag,
  WEBHOOK_RETRY_SCHEDULE_SECONDS: z
    .string()
    .optional()
    .transform((s, ctx) => {
      const parsed = parseRetrySchedule(s || DEFAULT_RETRY_SCHEDULE_SECONDS);
      if (typeof parsed === "string") ctx.addIssue({ code: "custom", message: parsed });
      return typeof parsed === "string" ? [] : parsed;
    }),
  WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(60).default(15),
  WEBHOOK_RETRY_JITTER: z.coerce.number().min(0).max(0.5).default(0.1),
  METRICS_TOKEN: z.string().min(16, "METRICS_TOKEN must be at least 16 characters").optional().or(z.literal("").transform(() => undefined)),
  METRICS_ENABLED: z.enum(["true", "false", "1", "0", ""]).optional().transform((v) => v !== "false" && v !== "0"),
  METRICS_FLUSH_SECONDS: z.coerce.number().min(0.1).max(25).default(5),
  METRICS_FLUSH_REQUESTS: z.coerce.number().int().min(1).max(100_000).default(200),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `LOG_LEVEL is one of ${LOG_LEVELS.join(", ")}` }).default("info"),
  LOG_FORMAT: z.enum(["json", "pretty"], { error: "LOG_FORMAT is json or pretty" }).default("json"),
  LOG_SAMPLE_RATIO: z.coerce.number().min(0).max(1).default(0.1),
}).refine((c) => !c.UPSTASH_REDIS_REST_URL === !c.UPSTASH_REDIS_REST_TOKEN, {
  message: "set both UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN, or neither (then rate limits use Durable Objects)",
  path: ["UPSTASH_REDIS_REST_URL"],
});

export interface EdgeConfig {
  /** Bootstrap admin key; unset means no client can authenticate (the API answers 401). */
  adminKey: string | null;
  /** Runner HMAC secrets; several during rotation. Empty means runners cannot connect. */
  runnerSecrets: string[];
  localMode: boolean;
  leaseTtlMs: number;
  heartbeatIntervalMs: number;
  outputMaxBytes: number;
  /** How long an ended task is kept (its record, output, patch, deliveries) before it is deleted; null: forever. */
  taskRetentionMs: number | null;
  rateLimit: RateLimitConfig;
  /** Concurrent WebSocket watchers one task accepts; the next gets `streamFullStatus`. */
  streamMaxWatchersPerTask: number;
  streamFullStatus: 429 | 503;
  /** Key material for task secrets at rest; null means the edge refuses tasks that carry secrets. */
  taskSecretsKey: string | null;
  /** Browser origins allowed to call the API (CORS); empty means none. */
  corsAllowedOrigins: string[];
  /**
   * The request header that carries the client's address, lower-case (`cf-connecting-ip` on
   * Cloudflare); null: none is trustworthy here (see `rate-limit/client-address.ts`).
   */
  clientAddressHeader: string | null;
  webhooks: WebhookConfig;
  metrics: MetricsConfig;
  log: LogConfig;
}

export interface MetricsConfig {
  /** False stops recording request metrics (benchmarks compare with and without; keep it on). */
  requestMetrics: boolean;
  /** Bearer token `/metrics` asks for; null: `/metrics` is open (keep it off the public internet then). */
  token: string | null;
  /** Longest an isolate keeps request metrics before flushing them to the `Metrics` object. */
  flushIntervalMs: number;
  /** Requests after which an isolate flushes before the interval is over. */
  flushAfterRequests: number;
}

export interface WebhookConfig {
  /** Development only: accept http and loopback/private callback URLs. */
  allowLocal: boolean;
  /** Delay before attempt 1, 2, 3… of a series (ms); its length is the number of attempts. */
  retryScheduleMs: readonly number[];
  /** One attempt's budget, from sending to the end of the response headers. */
  attemptTimeoutMs: number;
  /** Each delay is moved by up to ± this fraction at random, so retries of many tasks spread out. */
  jitter: number;
}

export interface RateLimitConfig {
  /** False turns every client limit off (benchmarks; never in production). */
  enabled: boolean;
  /** Upstash REST endpoint and token; null means the `RateLimiter` Durable Object backend. */
  upstash: { url: string; token: string } | null;
  /** Any /api/v1 request, per API key. */
  requestsPerMinute: number;
  /** `POST /api/v1/tasks`, per API key. */
  tasksPerMinute: number;
  /** New stream connections, per client address (per API key when there is none). */
  streamsPerMinute: number;
  /** Failed authentications per client address (else per presented key) per minute before it gets 429 (Retry-After up to 60). */
  authFailuresPerMinute: number;
  /** Failed authentications per address (else per presented key) within `authFailureWindowMs` that block it for `authBlockMs`. */
  authFailuresBeforeBlock: number;
  authFailureWindowMs: number;
  authBlockMs: number;
  /** Policies refused (503) rather than waved through when the backend fails. */
  failClosed: ReadonlySet<RateLimitPolicyName>;
  redisTimeoutMs: number;
  shards: number;
}

const cache = new WeakMap<object, EdgeConfig>();

/** Parses the bindings once per `env` object; throws with every bad setting named. */
export function edgeConfig(env: Env): EdgeConfig {
  const cached = cache.get(env);
  if (cached) return cached;
  const parsed = EdgeConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`invalid CodeForge edge configuration: ${problems}`);
  }
  const c = parsed.data;
  const config: EdgeConfig = {
    adminKey: c.CODEFORGE_ADMIN_KEY ?? null,
    runnerSecrets: c.RUNNER_SECRETS,
    localMode: c.CODEFORGE_LOCAL_MODE,
    leaseTtlMs: c.LEASE_TTL_SECONDS * 1_000,
    heartbeatIntervalMs: Math.round(c.HEARTBEAT_INTERVAL_SECONDS * 1_000),
    outputMaxBytes: c.OUTPUT_MAX_BYTES,
    taskRetentionMs: c.TASK_RETENTION_DAYS > 0 ? Math.round(c.TASK_RETENTION_DAYS * 86_400_000) : null,
    rateLimit: {
      enabled: c.RATE_LIMIT_ENABLED,
      upstash: c.UPSTASH_REDIS_REST_URL && c.UPSTASH_REDIS_REST_TOKEN ? { url: c.UPSTASH_REDIS_REST_URL, token: c.UPSTASH_REDIS_REST_TOKEN } : null,
      requestsPerMinute: c.RATE_LIMIT_REQUESTS_PER_MINUTE,
      tasksPerMinute: c.RATE_LIMIT_TASKS_PER_MINUTE,
      streamsPerMinute: c.RATE_LIMIT_STREAMS_PER_MINUTE,
      authFailuresPerMinute: c.RATE_LIMIT_AUTH_FAILURES_PER_MINUTE,
      authFailuresBeforeBlock: c.RATE_LIMIT_AUTH_FAILURES_BEFORE_BLOCK,
      authFailureWindowMs: c.RATE_LIMIT_AUTH_FAILURE_WINDOW_SECONDS * 1_000,
      authBlockMs: c.RATE_LIMIT_AUTH_BLOCK_SECONDS * 1_000,
      failClosed: new Set(c.RATE_LIMIT_FAIL_CLOSED),
      redisTimeoutMs: c.RATE_LIMIT_REDIS_TIMEOUT_MS,
      shards: c.RATE_LIMIT_SHARDS,
    },
    streamMaxWatchersPerTask: c.STREAM_MAX_WATCHERS_PER_TASK,
    streamFullStatus: c.STREAM_FULL_STATUS === "429" ? 429 : 503,
    taskSecretsKey: c.TASK_SECRETS_KEY ?? (c.CODEFORGE_LOCAL_MODE ? LOCAL_TASK_SECRETS_KEY : null),
    corsAllowedOrigins: c.CORS_ALLOWED_ORIGINS,
    clientAddressHeader: c.CLIENT_ADDRESS_HEADER,
    webhooks: {
      allowLocal: c.WEBHOOKS_ALLOW_LOCAL,
      retryScheduleMs: c.WEBHOOK_RETRY_SCHEDULE_SECONDS,
      attemptTimeoutMs: Math.round(c.WEBHOOK_TIMEOUT_SECONDS * 1_000),
      jitter: c.WEBHOOK_RETRY_JITTER,
    },
    metrics: {
      requestMetrics: c.METRICS_ENABLED,
      token: c.METRICS_TOKEN ?? null,
      flushIntervalMs: Math.round(c.METRICS_FLUSH_SECONDS * 1_000),
      flushAfterRequests: c.METRICS_FLUSH_REQUESTS,
    },
    log: { level: c.LOG_LEVEL, format: c.LOG_FORMAT, sampleRatio: c.LOG_SAMPLE_RATIO },
  };
  cache.set(env, config);
  return config;
}
