/**
 * The `opencode` adapter: opencode's non-interactive `run` command.
 *
 * Assumes `opencode run` as opencode 1.18 has it: `--format json` (JSON-lines events, read by
 * `opencode-json-parser.ts`), `--model <provider/model>`, the message taken from stdin when
 * stdin is not a terminal (no message argument, so the prompt stays off argv), and `--auto`,
 * which approves every permission request its configuration does not deny. Without `--auto`
 * a request that would ask (an edit outside the checkout, a repeated tool call) is rejected
 * and the run still ends with exit 0, having done nothing — so every run has `--auto`, and
 * the autonomy is in the permissions: with full autonomy nothing is denied; asking for edits
 * only, `bash` is denied (opencode then does not offer the model a shell tool at all: a call
 * to it comes back as an unavailable tool) and so is `external_directory` (edits stay in the
 * checkout), through `OPENCODE_PERMISSION`.
 *
 * What the runner sets up so a repository cannot steer it: `OPENCODE_DISABLE_PROJECT_CONFIG=1`
 * — opencode then reads no `opencode.json` or `.opencode/` (agents, commands, plugins) from the
 * checkout, which could otherwise point its provider at another URL or run a plugin holding its
 * environment; the checkout's `AGENTS.md`, which it would then skip too, is named in the
 * settings the runner writes (`~/.config/opencode/opencode.json`, `instructions`) — and no
 * models.dev fetch, share, update check or LSP download (its bundled model list is used). Authentication is the provider's variable
 * (`ANTHROPIC_API_KEY`, `OPENAI_API_KEY`, …) from `cli_env.opencode` or the task's `env`; a
 * base URL (`ANTHROPIC_BASE_URL`, `OPENAI_BASE_URL`) with or without its `/v1`.
 *
 * In a sandbox, Anthropic's and OpenAI's keys stay with the runner's model gateway: the
 * provider is the model's (`anthropic/…`, `openai/…`), or without a model the one with a key
 * (Anthropic first; then only that provider is enabled). opencode gets the gateway's URL as
 * that provider's `baseURL` and the placeholder as its key through `OPENCODE_CONFIG_CONTENT`,
 * merged after every other configuration.
 * @module
 */
import path from "node:path";
import { createOpencodeJsonParser } from "./opencode-json-parser.js";
import type { BinaryCliOptions, CliAdapter, GatewayPlan } from "../cli-adapter.js";
import { probeVersion } from "../version-probe.js";
import { cliInstallation } from "../../sandbox/cli-installation.js";
import { modelApiHosts } from "../model-api-hosts.js";

/** The providers whose calls can go through the gateway: their key and base URL variables. */
const PROVIDERS = {
  anthropic: { key: "ANTHROPIC_API_KEY", base: "ANTHROPIC_BASE_URL", defaultBase: "https://api.anthropic.com", header: "x-api-key" },
  openai: { key: "OPENAI_API_KEY", base: "OPENAI_BASE_URL", defaultBase: "https://api.openai.com", header: "authorization" },
} as const;
type Provider = keyof typeof PROVIDERS;

/** Settings of every run: no project configuration, nothing fetched that the run does not need. */
const RUN_ENV = {
  OPENCODE_DISABLE_PROJECT_CONFIG: "1",
  OPENCODE_DISABLE_MODELS_FETCH: "1",
  OPENCODE_DISABLE_AUTOUPDATE: "1",
  OPENCODE_DISABLE_SHARE: "1",
  OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
} as const;

/** What "edits only" denies; `--auto` approves the rest. */
export const OPENCODE_EDITS_PERMISSION = { bash: "deny", external_directory: "deny" } as const;

/**
 * The provider whose calls the gateway carries: the model's, or the one with a key.
 * @example
 * opencodeProvider({ ANTHROPIC_API_KEY: "k" }, "anthropic/claude-sonnet-4-5"); // "anthropic"
 */
export function opencodeProvider(env: Readonly<Record<string, string>>, model: string | null | undefined): Provider | null {
  if (model?.includes("/")) {
    const prefix = model.slice(0, model.indexOf("/"));
    return prefix in PROVIDERS && env[PROVIDERS[prefix as Provider].key] ? (prefix as Provider) : null;
  }
  return (Object.keys(PROVIDERS) as Provider[]).find((name) => env[PROVIDERS[name].key]) ?? null;
}

/** A base URL without its API version: the gateway adds the CLI's request path (`/v1/messages`) to it. */
function withoutVersion(url: string): string {
  return url.replace(/\/+$/, "").replace(/\/v1$/, "");
}

/**
 * @example
 * const opencode = createOpencodeAdapter({ pathEnv: process.env.PATH ?? "", env: config.cli_env.opencode });
 */
export function createOpencodeAdapter(options: BinaryCliOptions): CliAdapter {
  const command = options.command ?? "opencode";
  return {
    name: "opencode",
    command({ prompt, model, autonomy, repoDir }) {
      const args = ["run", "--format", "json", "--auto"];
      if (model) args.push("--model", model);
      const env: Record<string, string> = { ...RUN_ENV };
      if (autonomy === "edits") env.OPENCODE_PERMISSION = JSON.stringify(OPENCODE_EDITS_PERMISSION);
      // Without project configuration opencode would not read the repository's AGENTS.md: name it.
      const config = repoDir ? { instructions: [path.join(repoDir, "AGENTS.md")] } : {};
      return { command, args, stdin: prompt, env, homeFiles: { ".config/opencode/opencode.json": `${JSON.stringify(config, null, 2)}\n` } };
    },
    env: () => ({ ...options.env }),
    createParser: () => createOpencodeJsonParser(),
    installation: () => cliInstallation(command, options.pathEnv),
    egressHosts: () => modelApiHosts(["api.anthropic.com", "api.openai.com"], options.env, ["ANTHROPIC_BASE_URL", "OPENAI_BASE_URL"]),
    modelGateway: (env, model): GatewayPlan | null => {
      const provider = opencodeProvider(env, model);
      if (!provider) return null;
      const spec = PROVIDERS[provider];
      const key = env[spec.key]!;
      // The operator's key goes only to the operator's endpoint; a task's own key to the task's.
      const configured = key === options.env?.[spec.key] ? options.env?.[spec.base] : env[spec.base];
      return {
        upstream: { baseUrl: withoutVersion(configured || spec.defaultBase), header: spec.header, key },
        hide: [spec.key, spec.base],
        env: (gatewayUrl, placeholder) => {
          const baseURL = `${gatewayUrl}/v1`;
          const config = {
            provider: { [provider]: { options: { baseURL, apiKey: placeholder } } },
            // Without a model opencode picks one of the providers it has a key for: only this one.
            ...(model ? {} : { enabled_providers: [provider] }),
          };
          return { [spec.key]: placeholder, [spec.base]: baseURL, OPENCODE_CONFIG_CONTENT: JSON.stringify(config) };
        },
      };
    },
    isAvailable: async () => (await probeVersion({ command, pathEnv: options.pathEnv, timeoutMs: options.probeTimeoutMs })) !== null,
  };
}
