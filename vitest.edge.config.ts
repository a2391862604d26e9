// The edge suite: runs inside workerd with the real Worker, Durable Objects and SQLite, via
// the Workers Vitest pool. Secrets and a small output cap come in as bindings here.
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { TEST_ADMIN_KEY, TEST_CORS_ORIGINS, TEST_OUTPUT_MAX_BYTES, TEST_RUNNER_SECRETS } from "./tests/edge/credentials.js";

export default defineConfig({
  plugins: [
    cloudflareTest({
      main: "./edge/src/index.ts",
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          CODEFORGE_ADMIN_KEY: TEST_ADMIN_KEY,
          RUNNER_SECRETS: TEST_RUNNER_SECRETS.join(","),
          // file:// repositories are accepted, as under `npm start`.
          CODEFORGE_LOCAL_MODE: "true",
          OUTPUT_MAX_BYTES: String(TEST_OUTPUT_MAX_BYTES),
          CORS_ALLOWED_ORIGINS: TEST_CORS_ORIGINS.join(","),
        },
      },
    }),
  ],
  test: {
    name: "edge",
    include: ["tests/edge/**/*.test.ts"],
    testTimeout: 20_000,
  },
});
