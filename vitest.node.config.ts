// Node-side suites: the contract, the runner, the client (real git, real child processes) and the
// end-to-end tests that start the real edge under `wrangler dev` and a real runner.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "node",
    include: [
      "tests/api/**/*.test.ts",
      "tests/runner/**/*.test.ts",
      "tests/tools/**/*.test.ts",
      "tests/client/**/*.test.ts",
      "tests/e2e/**/*.test.ts",
      "tests/github/**/*.test.ts",
    ],
    environment: "node",
    // The CLI tests run the real binary: it runs the bundle, built here from the current sources.
    globalSetup: ["tests/support/build-cli-global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
