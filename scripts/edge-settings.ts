/**
 * The edge settings `npm start` passes on from its own environment: every name in
 * `wrangler.toml`'s `[vars]` (read from the file, so a new setting there needs nothing here),
 * the edge's secrets, the documented settings `wrangler.toml` leaves out, and every `OTEL_*`
 * variable. `tests/tools/start-settings.test.ts` checks this against the README's table of edge
 * settings and the variables the edge's settings slices read (`edge/src/settings/`), so the
 * list cannot drift from what the edge reads.
 * @module
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The edge's secrets (README, "Edge"; docs/deployment.md): never in `wrangler.toml`. */
export const EDGE_SECRETS = [
  "CODEFORGE_ADMIN_KEY",
  "RUNNER_SECRETS",
  "TASK_SECRETS_KEY",
  "SESSION_SECRET",
  "METRICS_TOKEN",
  "UPSTASH_REDIS_REST_URL",
  "UPSTASH_REDIS_REST_TOKEN",
  "GITHUB_APP_ID",
  "GITHUB_APP_PRIVATE_KEY",
  "GITHUB_WEBHOOK_SECRET",
] as const;

/** Documented edge settings whose defaults `wrangler.toml` does not restate. */
export const EDGE_VARS_NOT_IN_WRANGLER_TOML = [
  "RATE_LIMIT_SHARDS",
  "RATE_LIMIT_ENABLED",
  "WEBHOOK_RETRY_JITTER",
  "METRICS_ENABLED",
  "GITHUB_API_URL",
  "GITHUB_WEBHOOK_ALLOWED_SOURCES",
  "GITHUB_DEFAULTS",
  "CODEFORGE_PUBLIC_URL",
] as const;

/** Tracing settings (docs/tracing.md), for the edge and the runner alike. */
export const TRACING_PREFIX = "OTEL_";

/**
 * The names set in the `[vars]` table of a `wrangler.toml` (top level: not an environment's
 * `[env.<name>.vars]`). Only `NAME = …` lines are read; comments and other tables are skipped.
 * @example
 * wranglerVarNames('name = "x"\n[vars]\nLOG_LEVEL = "info" # a comment\n[[migrations]]\ntag = "v1"');
 * // ["LOG_LEVEL"]
 */
export function wranglerVarNames(toml: string): string[] {
  const names: string[] = [];
  let inVars = false;
  for (const raw of toml.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("[")) {
      inVars = line === "[vars]";
      continue;
    }
    const match = inVars ? /^([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line) : null;
    if (match) names.push(match[1]!);
  }
  return names;
}

/** Every edge setting name `npm start` takes from its environment (besides `OTEL_*`). */
export function edgeSettingNames(projectRoot: string): ReadonlySet<string> {
  const toml = readFileSync(join(projectRoot, "wrangler.toml"), "utf8");
  return new Set([...wranglerVarNames(toml), ...EDGE_SECRETS, ...EDGE_VARS_NOT_IN_WRANGLER_TOML]);
}

/** The variables of `env` that are edge settings, as the edge should receive them. */
export function callerEdgeSettings(env: NodeJS.ProcessEnv, names: ReadonlySet<string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && (names.has(entry[0]) || entry[0].startsWith(TRACING_PREFIX))),
  );
}

/** The tracing variables of `env` (`OTEL_*`), which the runner takes too. */
export function tracingSettings(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[0].startsWith(TRACING_PREFIX)));
}
