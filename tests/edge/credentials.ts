/**
 * The credentials the edge suite runs with. `vitest.edge.config.ts` hands them to the Worker
 * as bindings; tests use them to call the API and to sign runner requests. Test-only values.
 * @module
 */
export const TEST_ADMIN_KEY = "test-admin-key-0123456789abcdef";

/** Two runner secrets, as during a rotation: the new one first, the old one still accepted. */
export const TEST_RUNNER_SECRETS = ["runner-secret-current-0123456789", "runner-secret-previous-012345678"] as const;

/** The output cap the suite runs with: the smallest the edge accepts. */
export const TEST_OUTPUT_MAX_BYTES = 65_536;

/** Browser origins the suite's edge allows (CORS). */
export const TEST_CORS_ORIGINS = ["https://app.codeforge.test", "http://localhost:5173"] as const;

/** The bearer token `/metrics` asks for in the edge suite. */
export const TEST_METRICS_TOKEN = "test-metrics-token-0123456789abcdef";

/** The GitHub App's webhook secret in the edge suite (its private key is never used there: no GitHub API is reachable). */
export const TEST_GITHUB_WEBHOOK_SECRET = "test-github-webhook-secret-0123456789";
