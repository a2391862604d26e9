/**
 * Unit, in workerd: `edgeConfig` reads the Worker's real bindings (wrangler.toml's [vars] and the
 * test secrets) through the settings slices (edge/src/settings/): defaults, the shared boolean and
 * number rules, every bad setting named at once, and one parse per bindings object.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { edgeConfig, type Env } from "../../edge/src/env.js";
import { LOCAL_TASK_SECRETS_KEY } from "../../edge/src/settings/access-settings.js";

/** Bindings with only these settings (no wrangler.toml values): the slices' own defaults apply. */
const only = (vars: Record<string, string>) => vars as unknown as Env;

describe("edgeConfig", () => {
  it("reads wrangler.toml's [vars] and the secrets from the Worker's bindings", () => {
    const config = edgeConfig(env);
    expect(config.leaseTtlMs).toBe(30_000);
    expect(config.heartbeatIntervalMs).toBe(2_000);
    expect(config.taskRetentionMs).toBe(30 * 86_400_000);
    expect(config.clientAddressHeader).toBe("cf-connecting-ip");
    expect(config.localMode).toBe(true);
    expect(config.adminKey).toBe(env.CODEFORGE_ADMIN_KEY);
    expect(config.runnerSecrets.length).toBeGreaterThan(0);
    expect(config.rateLimit.failClosed).toEqual(new Set(["tasks"]));
    expect(config.webhooks.retryScheduleMs).toHaveLength(10);
    expect(config.metrics.flushIntervalMs).toBe(500);
    expect(config.log).toEqual({ level: "info", format: "json", sampleRatio: 0.1 });
  });

  it("gives every setting its default when the bindings set none", () => {
    const config = edgeConfig(only({}));
    expect(config).toMatchObject({
      adminKey: null,
      runnerSecrets: [],
      localMode: false,
      taskSecretsKey: null,
      leaseTtlMs: 30_000,
      streamMaxWatchersPerTask: 250,
      streamFullStatus: 503,
      corsAllowedOrigins: [],
      clientAddressHeader: null,
    });
    expect(config.rateLimit).toMatchObject({ enabled: true, upstash: null, requestsPerMinute: 600, tasksPerMinute: 10, shards: 16, authBlockMs: 3_600_000 });
    expect(config.webhooks).toMatchObject({ allowLocal: false, attemptTimeoutMs: 15_000, jitter: 0.1 });
    expect(config.metrics).toEqual({ requestMetrics: true, token: null, flushIntervalMs: 5_000, flushAfterRequests: 200, poolSnapshotIntervalMs: 10_000 });
  });

  it("reads booleans as the runner does: true/false, 1/0, yes/no", () => {
    const config = edgeConfig(only({ CODEFORGE_LOCAL_MODE: "yes", METRICS_ENABLED: "No", RATE_LIMIT_ENABLED: "0", WEBHOOKS_ALLOW_LOCAL: "1" }));
    expect(config.localMode).toBe(true);
    // Local mode without a key of its own: the public development key.
    expect(config.taskSecretsKey).toBe(LOCAL_TASK_SECRETS_KEY);
    expect(config.metrics.requestMetrics).toBe(false);
    expect(config.rateLimit.enabled).toBe(false);
    expect(config.webhooks.allowLocal).toBe(true);
  });

  it("takes a blank number as unset, and 0 retention days as keep forever", () => {
    expect(edgeConfig(only({ TASK_RETENTION_DAYS: "", LEASE_TTL_SECONDS: " " })).taskRetentionMs).toBe(30 * 86_400_000);
    expect(edgeConfig(only({ TASK_RETENTION_DAYS: "0" })).taskRetentionMs).toBeNull();
    expect(edgeConfig(only({ RATE_LIMIT_FAIL_CLOSED: "" })).rateLimit.failClosed.size).toBe(0);
    expect(
      edgeConfig(only({ STREAM_FULL_STATUS: "429", UPSTASH_REDIS_REST_URL: "https://r.example", UPSTASH_REDIS_REST_TOKEN: "t" })).rateLimit.upstash,
    ).toEqual({ url: "https://r.example", token: "t" });
  });

  it("names every bad setting at once, across slices, without echoing a secret", () => {
    const bad = only({
      CODEFORGE_ADMIN_KEY: "short-admin-key",
      LEASE_TTL_SECONDS: "1",
      RATE_LIMIT_ENABLED: "maybe",
      UPSTASH_REDIS_REST_TOKEN: "token-without-url",
      WEBHOOK_RETRY_SCHEDULE_SECONDS: "5,soon",
      LOG_LEVEL: "loud",
      METRICS_FLUSH_REQUESTS: "many",
    });
    let message = "";
    try {
      edgeConfig(bad);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^invalid CodeForge edge configuration: /);
    for (const name of [
      "CODEFORGE_ADMIN_KEY",
      "LEASE_TTL_SECONDS",
      "RATE_LIMIT_ENABLED: must be true or false",
      "WEBHOOK_RETRY_SCHEDULE_SECONDS",
      "LOG_LEVEL",
      "METRICS_FLUSH_REQUESTS",
    ]) {
      expect(message, name).toContain(name);
    }
    expect(message).not.toContain("short-admin-key");
    expect(message).not.toContain("token-without-url");
    // The Upstash pair is checked once the slice's values parse.
    expect(() => edgeConfig(only({ UPSTASH_REDIS_REST_TOKEN: "token-without-url" }))).toThrow(/UPSTASH_REDIS_REST_URL: set both/);
  });

  it("parses a bindings object once, and a new one anew", () => {
    const bindings = only({ RATE_LIMIT_TASKS_PER_MINUTE: "7" });
    expect(edgeConfig(bindings)).toBe(edgeConfig(bindings));
    expect(edgeConfig(only({ RATE_LIMIT_TASKS_PER_MINUTE: "8" })).rateLimit.tasksPerMinute).toBe(8);
  });
});
