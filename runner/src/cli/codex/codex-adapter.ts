/**
 * The `codex` adapter: OpenAI's Codex CLI (0.171.0) in `exec` (non-interactive) mode.
 *
 * `codex exec --json` (JSON-lines events on stdout, read by `codex-json-parser.ts`), `--color
 * never`, `--skip-git-repo-check` (a detached checkout is fine), and with full autonomy
 * `--dangerously-bypass-approvals-and-sandbox` (the runner's sandbox is the boundary; Codex's
 * own would leave the agent unable to run what it needs, and `exec` never asks for approval
 * anyway), for edits only `--sandbox workspace-write` (writes inside the checkout, commands
 * sandboxed by Codex), `--model <m>`, and `-` as the prompt argument, which makes it read the
 * prompt from stdin.
 *
 * Codex takes its endpoint only from its settings file, `~/.codex/config.toml` (it ignores
 * `OPENAI_BASE_URL`, and `OPENAI_API_KEY` unless a provider names it), so every run gets one
 * (`homeFiles`; HOME is the attempt's own): a model provider `codeforge` speaking the Responses
 * API at `OPENAI_BASE_URL` (default `https://api.openai.com/v1`) with the key in
 * `OPENAI_API_KEY` or `CODEX_API_KEY` (`cli_env.codex` or the task's `env`), and the update
 * check, plugins (their start-up sync calls GitHub and ChatGPT), analytics, feedback and
 * OpenTelemetry export turned off, so nothing else is called. The operator's key (from
 * `cli_env`) goes only to the operator's endpoint; a task's `env` that brings its own key may
 * name its own `OPENAI_BASE_URL`. In
 * a sandbox the provider points at the runner's model gateway instead, with the attempt's
 * placeholder in `OPENAI_API_KEY`; the real key and endpoint stay with the runner. A checkout's
 * own `.codex/config.toml` is not read: Codex 0.171.0 skips project settings of a project not
 * marked trusted in the user's settings (and never takes a provider or base URL from them).
 * @module
 */
import { createCodexJsonParser } from "./codex-json-parser.js";
import { isRecord } from "../json-lines-parser.js";
import type { BinaryCliOptions, CliAdapter, GatewayPlan } from "../cli-adapter.js";
import { probeVersion } from "../version-probe.js";
import { cliInstallation } from "../../sandbox/cli-installation.js";
import { modelApiHosts } from "../model-api-hosts.js";

/** The OpenAI API, when `OPENAI_BASE_URL` does not name another endpoint. */
export const OPENAI_API_BASE = "https://api.openai.com/v1";

/** Where Codex reads its settings, relative to HOME. */
export const CODEX_CONFIG_FILE = ".codex/config.toml";

/**
 * `codex --version` starts a 300 MB native binary through a Node wrapper; read cold from a slow
 * disk that takes longer than the usual probe allows.
 */
const CODEX_PROBE_TIMEOUT_MS = 30_000;

/** Variables that carry the key, in the order they are preferred. */
const KEY_VARIABLES = ["OPENAI_API_KEY", "CODEX_API_KEY"] as const;

/**
 * @example
 * const codex = createCodexAdapter({ pathEnv: process.env.PATH ?? "", env: config.cli_env.codex });
 */
export function createCodexAdapter(options: BinaryCliOptions): CliAdapter {
  const command = options.command ?? "codex";
  const configured = options.env ?? {};
  return {
    name: "codex",
    command({ prompt, model, autonomy }) {
      const mode = autonomy === "full" ? ["--dangerously-bypass-approvals-and-sandbox"] : ["--sandbox", "workspace-write"];
      const args = ["exec", "--json", "--color", "never", "--skip-git-repo-check", ...mode];
      if (model) args.push("--model", model);
      args.push("-");
      // Without the gateway: the configured endpoint, the key from the variable it is configured in.
      const keyVariable = KEY_VARIABLES.find((name) => configured[name]) ?? "OPENAI_API_KEY";
      const settings = codexConfig({ baseUrl: configured.OPENAI_BASE_URL || OPENAI_API_BASE, keyVariable, name: "OpenAI" });
      return { command, args, stdin: prompt, homeFiles: { [CODEX_CONFIG_FILE]: settings } };
    },
    env: () => ({ ...options.env }),
    createParser: () => createCodexJsonParser(),
    installation: () => cliInstallation(command, options.pathEnv),
    egressHosts: () => modelApiHosts(["api.openai.com"], options.env, ["OPENAI_BASE_URL"]),
    modelGateway: (env): GatewayPlan | null => {
      const keyVariable = KEY_VARIABLES.find((name) => env[name]);
      if (!keyVariable) return null;
      // The operator's key goes only to the operator's endpoint: a task's env may bring its own
      // key (and then its own endpoint), never send the operator's somewhere else.
      const operatorsKey = env[keyVariable] === configured[keyVariable];
      return {
        upstream: {
          baseUrl: (operatorsKey ? configured.OPENAI_BASE_URL : env.OPENAI_BASE_URL) || OPENAI_API_BASE,
          header: "authorization",
          key: env[keyVariable]!,
        },
        // CODEX_HOME would move Codex away from the settings that point it at the gateway.
        hide: [...KEY_VARIABLES, "OPENAI_BASE_URL", "CODEX_HOME"],
        env: (_gatewayUrl, placeholder) => ({ OPENAI_API_KEY: placeholder }),
        homeFiles: (gatewayUrl) => ({
          [CODEX_CONFIG_FILE]: codexConfig({ baseUrl: gatewayUrl, keyVariable: "OPENAI_API_KEY", name: "OpenAI through the CodeForge model gateway" }),
        }),
      };
    },
    // Sessions: ~/.codex/sessions/YYYY/MM/DD/rollout-<time>-<thread-id>.jsonl; `exec [options] resume <id> -`
    // takes exec's options before `resume` and finds the thread under any cwd.
    session: {
      paths: () => [".codex/sessions"],
      idFrom: (json) => (isRecord(json) && json.type === "thread.started" && typeof json.thread_id === "string" ? json.thread_id : null),
      resumeArgs: (args, id) => (args.at(-1) === "-" ? [...args.slice(0, -1), "resume", id, "-"] : [...args, "resume", id]),
    },
    isAvailable: async () => (await probeVersion({ command, pathEnv: options.pathEnv, timeoutMs: options.probeTimeoutMs ?? CODEX_PROBE_TIMEOUT_MS })) !== null,
  };
}

/**
 * Codex's settings for one run: its one model provider (Responses API at `baseUrl`, the key in
 * `keyVariable`; the organization and project headers from their usual variables when set), and
 * nothing that calls elsewhere.
 */
function codexConfig(provider: { baseUrl: string; keyVariable: string; name: string }): string {
  return [
    "# Written by the CodeForge runner for this run.",
    'model_provider = "codeforge"',
    "check_for_update_on_startup = false",
    "",
    "[model_providers.codeforge]",
    `name = ${tomlString(provider.name)}`,
    `base_url = ${tomlString(provider.baseUrl.replace(/\/+$/, ""))}`,
    `env_key = ${tomlString(provider.keyVariable)}`,
    'wire_api = "responses"',
    'env_http_headers = { "OpenAI-Organization" = "OPENAI_ORGANIZATION", "OpenAI-Project" = "OPENAI_PROJECT" }',
    "",
    // Plugins sync a marketplace from GitHub and ChatGPT at start-up.
    "[features]",
    "plugins = false",
    "",
    "[analytics]",
    "enabled = false",
    "",
    "[feedback]",
    "enabled = false",
    "",
    "[otel]",
    'exporter = "none"',
    'trace_exporter = "none"',
    'metrics_exporter = "none"',
    "",
  ].join("\n");
}

/** A TOML basic string: JSON's escapes are TOML's (`\"`, `\\`, `\n`, `\uXXXX`). */
function tomlString(value: string): string {
  return JSON.stringify(value);
}
