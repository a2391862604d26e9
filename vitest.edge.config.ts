// The edge suites: run inside workerd with the real Worker, Durable Objects and SQLite, via
// the Workers Vitest pool. Secrets and a small output cap come in as bindings here.
//
// wrangler.toml's Text module rules (swagger-ui's files, the console's) apply here through
// `textModules()` (tests/support/text-modules.ts), as they do in the bundle wrangler builds.
//
// Two projects:
// - `edge`: the default local setup (rate limits on the RateLimiter Durable Objects), with
//   limits high enough that suites creating many tasks never meet them;
// - `edge-upstash`: the production setup (Upstash Redis), against a real `redis-server` behind
//   the Upstash REST shim that `globalSetup` starts in Node and hands over with `provide`, and
//   low limits so its tests can reach them.
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import {
  TEST_ADMIN_KEY,
  TEST_CORS_ORIGINS,
  TEST_GITHUB_WEBHOOK_SECRET,
  TEST_METRICS_TOKEN,
  TEST_OUTPUT_MAX_BYTES,
  TEST_RUNNER_SECRETS,
} from "./tests/edge/credentials.js";
import { UPSTASH_TEST_LIMITS } from "./tests/edge-upstash/limits.js";
import { textModules } from "./tests/support/text-modules.js";
import { EveryTestReported, tolerateWorkerdExit } from "./tests/support/workerd-teardown.js";

const common = {
  CODEFORGE_ADMIN_KEY: TEST_ADMIN_KEY,
  RUNNER_SECRETS: TEST_RUNNER_SECRETS.join(","),
  // file:// repositories are accepted, as under `npm start`.
  CODEFORGE_LOCAL_MODE: "true",
  OUTPUT_MAX_BYTES: String(TEST_OUTPUT_MAX_BYTES),
  CORS_ALLOWED_ORIGINS: TEST_CORS_ORIGINS.join(","),
  // As on Cloudflare: the tests stand in for Cloudflare and set CF-Connecting-IP themselves.
  // tests/edge/client-address.test.ts passes other values (none, a proxy's header) per request.
  CLIENT_ADDRESS_HEADER: "CF-Connecting-IP",
};

const unreachable = "1000000";
/** Limits no suite creating many tasks meets (the Upstash project tests the real ones). */
const unreachableLimits = {
  RATE_LIMIT_REQUESTS_PER_MINUTE: unreachable,
  RATE_LIMIT_TASKS_PER_MINUTE: unreachable,
  RATE_LIMIT_STREAMS_PER_MINUTE: unreachable,
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: unreachable,
  RATE_LIMIT_AUTH_FAILURES_BEFORE_BLOCK: unreachable,
};

/** The real Worker in workerd with `bindings` over wrangler.toml's. */
const worker = (bindings: Record<string, string>) => ({
  main: "./edge/src/index.ts",
  wrangler: { configPath: "./wrangler.toml" },
  miniflare: { bindings: { ...common, ...bindings } },
});

export default defineConfig({
  test: {
    // workerd's intermittent crash while a finished file's runtime shuts down: see the module.
    onUnhandledError: tolerateWorkerdExit,
    reporters: ["default", new EveryTestReported()],
    projects: [
      {
        plugins: [
          textModules(),
          cloudflareTest(
            worker({
              ...unreachableLimits,
              METRICS_TOKEN: TEST_METRICS_TOKEN,
              // Short, so a test sees a background flush land without waiting long.
              METRICS_FLUSH_SECONDS: "0.5",
              // Short, so a pool's gauges and runners reach the registry quickly.
              POOL_SNAPSHOT_SECONDS: "1",
              // Short, so tests/edge/stream-sse.test.ts sees heartbeats without waiting 15 s.
              STREAM_SSE_HEARTBEAT_SECONDS: "0.5",
              // The GitHub App, for its webhook's refusals (tests/edge/github-webhook.test.ts): no
              // GitHub API answers here (a closed port), and only GitHub's hook ranges may deliver.
              GITHUB_APP_ID: "12345",
              GITHUB_APP_PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\nnot a key: the edge suite never reaches a GitHub API\n-----END RSA PRIVATE KEY-----",
              GITHUB_WEBHOOK_SECRET: TEST_GITHUB_WEBHOOK_SECRET,
              GITHUB_API_URL: "http://127.0.0.1:9",
              GITHUB_WEBHOOK_ALLOWED_SOURCES: "github",
            }),
          ),
        ],
        test: {
          name: "edge",
          include: ["tests/edge/**/*.test.ts"],
          testTimeout: 20_000,
        },
      },
      {
        // A pool's Dispatcher split over three shards (DISPATCHER_SHARDS), with work stealing.
        plugins: [textModules(), cloudflareTest(worker({ ...unreachableLimits, DISPATCHER_SHARDS: "3", POOL_SNAPSHOT_SECONDS: "0.1" }))],
        test: {
          name: "edge-shards",
          include: ["tests/edge-shards/**/*.test.ts"],
          testTimeout: 30_000,
        },
      },
      {
        // Webhooks against a real receiver (node:http on 127.0.0.1, started by globalSetup):
        // local callback URLs allowed, as under `npm start`; a 1 s attempt limit so timeouts
        // are quick; the default retry schedule, driven by moving the clock and firing alarms.
        plugins: [textModules(), cloudflareTest(worker({ ...unreachableLimits, WEBHOOKS_ALLOW_LOCAL: "true", WEBHOOK_TIMEOUT_SECONDS: "1" }))],
        test: {
          name: "edge-webhooks",
          include: ["tests/edge-webhooks/**/*.test.ts"],
          globalSetup: ["tests/support/webhook-receiver-global-setup.ts"],
          testTimeout: 30_000,
        },
      },
      {
        plugins: [
          textModules(),
          cloudflareTest(({ inject }) =>
            worker({ ...UPSTASH_TEST_LIMITS, UPSTASH_REDIS_REST_URL: inject("upstashUrl"), UPSTASH_REDIS_REST_TOKEN: inject("upstashToken") }),
          ),
        ],
        test: {
          name: "edge-upstash",
          include: ["tests/edge-upstash/**/*.test.ts"],
          globalSetup: ["tests/support/upstash-global-setup.ts"],
          // One Redis for the project: files take turns so one file's flush never hits another's keys.
          fileParallelism: false,
          testTimeout: 30_000,
        },
      },
    ],
  },
});
