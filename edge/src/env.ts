/**
 * The Worker's bindings and its configuration, parsed once per isolate with zod.
 *
 * `Env` is what `wrangler types` generates from `wrangler.toml` (`edge/worker-configuration.d.ts`:
 * the Durable Object namespaces and `[vars]`; `npm run types` regenerates it, and
 * `tests/tools/worker-types.test.ts` fails while it is stale), plus, as optional
 * text, every variable a settings slice reads — the secrets and optional settings `wrangler.toml`
 * does not list. Each setting is written once, in its slice under `settings/`; `edgeConfig`
 * reads them all. Nothing else reads `env` vars as untyped strings: routes and objects receive
 * `EdgeConfig`.
 * @module
 */
import { AccessSettings, type AccessConfig } from "./settings/access-settings.js";
import { GitHubSettings, type GitHubConfig } from "./settings/github-settings.js";
import { LogSettings, type LogConfig } from "./settings/log-settings.js";
import { MetricsSettings, type MetricsConfig } from "./settings/metrics-settings.js";
import { RateLimitSettings, type RateLimitConfig } from "./settings/rate-limit-settings.js";
import { RequestSettings, type RequestConfig } from "./settings/request-settings.js";
import type { SettingsSlice, VariableOf } from "./settings/settings-slice.js";
import { StreamSettings, type StreamConfig } from "./settings/stream-settings.js";
import { TaskSettings, type TaskConfig } from "./settings/task-settings.js";
import { WebhookSettings, type WebhookConfig } from "./settings/webhook-settings.js";
import type { TracingEnv } from "./tracing/tracing-config.js";

/** Every slice of the edge's configuration; a new slice is added here and to `EdgeConfig`. */
const SLICES = [
  AccessSettings,
  TaskSettings,
  StreamSettings,
  RequestSettings,
  RateLimitSettings,
  WebhookSettings,
  MetricsSettings,
  LogSettings,
  GitHubSettings,
] as const;

/** The name of every variable the edge's settings read (`OTEL_*` aside: see `tracing/tracing-config.ts`). */
export const EDGE_SETTING_VARIABLES: readonly string[] = SLICES.flatMap((slice) => slice.variables);

type SettingsEnv = { readonly [Variable in VariableOf<(typeof SLICES)[number]>]?: string };

declare global {
  namespace Cloudflare {
    /** The generated bindings, and the settings as text; a variable `wrangler.toml` does not list may be unset. */
    interface Env extends SettingsEnv, TracingEnv {}
  }
}

/** The Worker's bindings: `Cloudflare.Env`, generated from `wrangler.toml` and extended above. */
export type Env = Cloudflare.Env;

export interface EdgeConfig extends AccessConfig, TaskConfig, StreamConfig, RequestConfig {
  rateLimit: RateLimitConfig;
  webhooks: WebhookConfig;
  metrics: MetricsConfig;
  log: LogConfig;
  /** The GitHub App; null when it is not configured. */
  github: GitHubConfig | null;
}

const cache = new WeakMap<object, EdgeConfig>();

/** Parses the bindings once per `env` object; throws with every bad setting named. */
export function edgeConfig(env: Env): EdgeConfig {
  const cached = cache.get(env);
  if (cached) return cached;
  const problems: string[] = [];
  const read = <Config>(slice: SettingsSlice<string, Config>): Config => {
    const result = slice.read(env);
    problems.push(...result.problems);
    return result.config as Config;
  };
  const config: EdgeConfig = {
    ...read(AccessSettings),
    ...read(TaskSettings),
    ...read(StreamSettings),
    ...read(RequestSettings),
    rateLimit: read(RateLimitSettings),
    webhooks: read(WebhookSettings),
    metrics: read(MetricsSettings),
    log: read(LogSettings),
    ...read(GitHubSettings),
  };
  if (problems.length > 0) throw new Error(`invalid CodeForge edge configuration: ${problems.join("; ")}`);
  cache.set(env, config);
  return config;
}
