/**
 * The `aider` adapter: Aider in one-shot scripting mode.
 *
 * Assumes Aider's documented scripting flags: `--message-file <file>` (run that one
 * instruction and exit; aider reads no prompt from stdin), `--yes-always` (nobody is there to
 * confirm; for edits only also `--no-suggest-shell-commands`, so it proposes no commands to run), `--no-auto-commits` and `--no-dirty-commits` (the runner describes the changes
 * itself, against the commit it checked out), `--no-pretty` and `--no-stream` (plain text,
 * no terminal control codes), `--no-check-update`, `--no-show-release-notes`,
 * `--no-analytics`, `--no-gitignore` (do not add `.aider*` to the repository's
 * `.gitignore`), history files moved out of the checkout, and `--model <m>`. The prompt file
 * lives in the runner's scratch directory beside the checkout, so it is not part of the diff.
 * Output is plain text, streamed as it is; `aider-report-parser.ts` reads the run's cost from
 * the usage report Aider prints after each reply (the terminal is made wide, `COLUMNS=200`, so
 * it does not wrap those lines). Authentication is the provider's usual variable
 * (`ANTHROPIC_API_KEY`, `OPENAI_API_KEY`, …) with its base URL (`ANTHROPIC_BASE_URL`,
 * `OPENAI_API_BASE`) from `cli_env.aider` or the task's `env`.
 *
 * Aider loads `.env` from the repository's root and its working directory, each overriding the
 * environment, and then the `--env-file` last: the runner writes that file in the scratch
 * directory, outside the checkout, restating the key and endpoint variables as configured
 * (empty when not), so a repository's `.env` cannot change where its calls go or with which key.
 *
 * In a sandbox, Anthropic's or OpenAI's key stays with the runner's model gateway: the provider
 * is the model's (`anthropic/…`, `claude-…`, `sonnet`, or `openai/…`, `gpt-…`, `o3`…), or without
 * a model the one with a key (Anthropic first, as Aider picks its default model); Aider gets the
 * gateway's URL as that provider's base URL and the placeholder as its key.
 * @module
 */
import path from "node:path";
import { createAiderReportParser } from "./aider-report-parser.js";
import type { BinaryCliOptions, CliAdapter, GatewayPlan } from "../cli-adapter.js";
import { probeVersion } from "../version-probe.js";
import { cliInstallation } from "../../sandbox/cli-installation.js";
import { modelApiHosts } from "../model-api-hosts.js";

/** Name of the prompt file in the scratch directory. */
export const AIDER_PROMPT_FILE = "aider-prompt.md";

/** Name of the `--env-file` in the scratch directory. */
export const AIDER_ENV_FILE = "aider.env";

/** The variables that decide where Aider's calls go and with which key: restated in its `--env-file`. */
const ENDPOINT_VARIABLES = [
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_BASE_URL",
  "ANTHROPIC_API_BASE",
  "OPENAI_API_KEY",
  "OPENAI_API_BASE",
  "OPENAI_BASE_URL",
  "AIDER_OPENAI_API_BASE",
  "AIDER_OPENAI_API_KEY",
  "AIDER_ANTHROPIC_API_KEY",
] as const;

const PROVIDERS = {
  anthropic: {
    key: "ANTHROPIC_API_KEY",
    bases: ["ANTHROPIC_BASE_URL", "ANTHROPIC_API_BASE"],
    defaultBase: "https://api.anthropic.com",
    header: "x-api-key",
    version: "",
  },
  openai: {
    key: "OPENAI_API_KEY",
    bases: ["OPENAI_API_BASE", "OPENAI_BASE_URL"],
    defaultBase: "https://api.openai.com",
    header: "authorization",
    version: "/v1",
  },
} as const;
type Provider = keyof typeof PROVIDERS;

/**
 * The provider of an Aider model name, when it is Anthropic's or OpenAI's; without a model, the
 * one with a key (Anthropic first, as Aider chooses its default model).
 * @example
 * aiderProvider({ ANTHROPIC_API_KEY: "k" }, "sonnet"); // "anthropic"
 */
export function aiderProvider(env: Readonly<Record<string, string>>, model: string | null | undefined): Provider | null {
  let provider: Provider | null;
  if (!model) provider = env.ANTHROPIC_API_KEY ? "anthropic" : env.OPENAI_API_KEY ? "openai" : null;
  else if (/^anthropic\//.test(model) || (!model.includes("/") && /claude|sonnet|opus|haiku/.test(model))) provider = "anthropic";
  else if (/^openai\//.test(model) || (!model.includes("/") && /^(gpt|o\d|chatgpt|4o?\b|3\b)/.test(model))) provider = "openai";
  else provider = null;
  return provider && env[PROVIDERS[provider].key] ? provider : null;
}

/** The `--env-file`: each endpoint variable as the CLI's environment has it, empty when unset. */
function envFile(env: Readonly<Record<string, string>>): string {
  const lines = ["# Written by the CodeForge runner: loaded after any .env of the repository."];
  for (const name of ENDPOINT_VARIABLES) {
    const value = env[name] ?? "";
    // Single quotes: taken literally (no ${} expansion); a value that cannot be quoted so is left out.
    if (!/['\n\r]/.test(value)) lines.push(`${name}='${value}'`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * @example
 * const aider = createAiderAdapter({ pathEnv: process.env.PATH ?? "", env: config.cli_env.aider });
 */
export function createAiderAdapter(options: BinaryCliOptions): CliAdapter {
  const command = options.command ?? "aider";
  return {
    name: "aider",
    command({ prompt, model, scratchDir, autonomy, env }) {
      const args = [
        "--message-file",
        path.join(scratchDir, AIDER_PROMPT_FILE),
        "--env-file",
        path.join(scratchDir, AIDER_ENV_FILE),
        "--yes-always",
        "--no-auto-commits",
        "--no-dirty-commits",
        "--no-pretty",
        "--no-stream",
        "--no-check-update",
        "--no-show-release-notes",
        "--no-analytics",
        "--no-gitignore",
        "--chat-history-file",
        path.join(scratchDir, "aider.chat.history.md"),
        "--input-history-file",
        path.join(scratchDir, "aider.input.history"),
      ];
      if (autonomy === "edits") args.push("--no-suggest-shell-commands");
      if (model) args.push("--model", model);
      return { command, args, files: { [AIDER_PROMPT_FILE]: prompt, [AIDER_ENV_FILE]: envFile(env ?? {}) }, env: { COLUMNS: "200" } };
    },
    env: () => ({ ...options.env }),
    modelGateway: (env, model): GatewayPlan | null => {
      const provider = aiderProvider(env, model);
      if (!provider) return null;
      const spec = PROVIDERS[provider];
      const key = env[spec.key]!;
      // The operator's key goes only to the operator's endpoint; a task's own key to the task's.
      const source = key === options.env?.[spec.key] ? (options.env ?? {}) : env;
      const configured = spec.bases.map((name) => source[name]).find(Boolean);
      // The gateway adds the request's path (/v1/messages, /v1/chat/completions) to the upstream.
      const upstream = configured ? configured.replace(/\/+$/, "").replace(/\/v1(\/messages)?$/, "") : spec.defaultBase;
      return {
        upstream: { baseUrl: upstream, header: spec.header, key },
        hide: [spec.key, ...spec.bases],
        env: (gatewayUrl, placeholder) => Object.fromEntries([[spec.key, placeholder], ...spec.bases.map((name) => [name, `${gatewayUrl}${spec.version}`])]),
      };
    },
    createParser: () => createAiderReportParser(),
    installation: () => cliInstallation(command, options.pathEnv),
    egressHosts: () => modelApiHosts(["api.openai.com", "api.anthropic.com"], options.env, ["OPENAI_API_BASE", "ANTHROPIC_BASE_URL"]),
    isAvailable: async () => (await probeVersion({ command, pathEnv: options.pathEnv, timeoutMs: options.probeTimeoutMs })) !== null,
  };
}
