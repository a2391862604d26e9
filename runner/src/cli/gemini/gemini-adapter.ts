/**
 * The `gemini` adapter: Google's Gemini CLI in headless mode.
 *
 * Assumes the headless mode of Gemini CLI 0.61: with stdin not a terminal it reads the prompt
 * from stdin and runs without its interactive UI (no `-p`: the prompt stays off argv);
 * `--output-format stream-json` gives JSON-lines events (read by `gemini-stream-parser.ts`);
 * `--approval-mode yolo` applies every tool call without asking, with full autonomy,
 * `--approval-mode auto_edit` for edits only (its shell tool then needs an approval nobody
 * gives); `--model <m>` as it takes them (`gemini-2.5-pro`, `gemini-2.5-flash`, or its aliases
 * `auto`, `pro`, `flash`).
 *
 * What the runner sets up so it runs headless and unattended:
 * - workspace trust (`GEMINI_CLI_TRUST_WORKSPACE=true`): in an untrusted folder it refuses to
 *   run headless (exit 55);
 * - `~/.gemini/settings.json`: API-key authentication (`security.auth.selectedType`; with a base
 *   URL and no selected type it exits 41), no telemetry or usage statistics, no update check,
 *   no IDE integration, and no `.env` from the project (`advanced.ignoreLocalEnv`);
 * - the key (`GEMINI_API_KEY`; `GOOGLE_API_KEY` when that is not set) and the endpoint
 *   (`GOOGLE_GEMINI_BASE_URL`, `https://generativelanguage.googleapis.com` by default) always in
 *   its environment, with the variables that would switch it to another authentication
 *   (Vertex AI, Google login, a bearer header, extra headers) set off: Gemini CLI loads a
 *   repository's `.env` (or `.gemini/.env`, which it reads even with `ignoreLocalEnv`) but never
 *   overrides a variable already set, so a repository cannot change where its calls go or with
 *   which key;
 * - `GEMINI_CLI_NO_RELAUNCH=true`: it runs in one process instead of relaunching itself to raise
 *   its heap limit (the sandbox's memory limit is the bound that matters), about a second less.
 *
 * In a sandbox the key stays with the runner's model gateway: Gemini CLI gets the gateway's URL
 * as `GOOGLE_GEMINI_BASE_URL` and a placeholder as `GEMINI_API_KEY`, sent as `x-goog-api-key`.
 * Its `--version` is slow (a 96 MB bundle: 3–10 s on a busy machine), so its availability check
 * waits up to 30 s.
 * @module
 */
import { createGeminiStreamParser } from "./gemini-stream-parser.js";
import type { BinaryCliOptions, CliAdapter } from "../cli-adapter.js";
import { probeVersion } from "../version-probe.js";
import { cliInstallation } from "../../sandbox/cli-installation.js";
import { modelApiHosts } from "../model-api-hosts.js";

/** Google's Gemini API, where its calls go unless `GOOGLE_GEMINI_BASE_URL` says otherwise. */
export const GEMINI_DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com";

/** How long its `--version` may take before it counts as missing. */
export const GEMINI_PROBE_TIMEOUT_MS = 30_000;

/** `~/.gemini/settings.json` for a headless, unattended run with an API key. */
export const GEMINI_SETTINGS = {
  security: { auth: { selectedType: "gemini-api-key" } },
  general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
  privacy: { usageStatisticsEnabled: false },
  telemetry: { enabled: false },
  ide: { enabled: false },
  advanced: { ignoreLocalEnv: true },
} as const;

/**
 * Set in every run, so a repository's `.env` (which never overrides a set variable) cannot
 * switch Gemini CLI to another authentication or add headers to its calls.
 */
const PINNED_ENV = {
  GEMINI_CLI_TRUST_WORKSPACE: "true",
  GEMINI_CLI_NO_RELAUNCH: "true",
  GOOGLE_GEMINI_BASE_URL: GEMINI_DEFAULT_BASE_URL,
  GOOGLE_API_KEY: "",
  GOOGLE_GENAI_USE_VERTEXAI: "false",
  GOOGLE_GENAI_USE_GCA: "false",
  GOOGLE_VERTEX_BASE_URL: "",
  GEMINI_API_KEY_AUTH_MECHANISM: "x-goog-api-key",
  GEMINI_CLI_CUSTOM_HEADERS: "",
} as const;

/**
 * @example
 * const gemini = createGeminiAdapter({ pathEnv: process.env.PATH ?? "", env: config.cli_env.gemini });
 */
export function createGeminiAdapter(options: BinaryCliOptions): CliAdapter {
  const command = options.command ?? "gemini";
  return {
    name: "gemini",
    command({ prompt, model, autonomy }) {
      const args = ["--output-format", "stream-json", "--approval-mode", autonomy === "full" ? "yolo" : "auto_edit"];
      if (model) args.push("--model", model);
      return { command, args, stdin: prompt, env: { ...PINNED_ENV }, homeFiles: { ".gemini/settings.json": `${JSON.stringify(GEMINI_SETTINGS, null, 2)}\n` } };
    },
    env: () => {
      const env = { ...options.env };
      // Gemini CLI's API-key authentication reads only GEMINI_API_KEY.
      if (!env.GEMINI_API_KEY && env.GOOGLE_API_KEY) env.GEMINI_API_KEY = env.GOOGLE_API_KEY;
      return env;
    },
    createParser: () => createGeminiStreamParser(),
    installation: () => cliInstallation(command, options.pathEnv),
    egressHosts: () => modelApiHosts(["generativelanguage.googleapis.com"], options.env, ["GOOGLE_GEMINI_BASE_URL"]),
    modelGateway: (env) => {
      const key = env.GEMINI_API_KEY || env.GOOGLE_API_KEY;
      if (!key) return null;
      // The operator's key goes only to the operator's endpoint: a task's env may bring its own
      // key (and then its own endpoint), never send the operator's somewhere else.
      const operatorsKey = key === (options.env?.GEMINI_API_KEY || options.env?.GOOGLE_API_KEY);
      const baseUrl = (operatorsKey ? options.env?.GOOGLE_GEMINI_BASE_URL : env.GOOGLE_GEMINI_BASE_URL) || GEMINI_DEFAULT_BASE_URL;
      return {
        upstream: { baseUrl, header: "x-goog-api-key", key },
        hide: ["GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL"],
        env: (gatewayUrl, placeholder) => ({ GOOGLE_GEMINI_BASE_URL: gatewayUrl, GEMINI_API_KEY: placeholder }),
      };
    },
    isAvailable: async () =>
      (await probeVersion({
        command,
        pathEnv: options.pathEnv,
        timeoutMs: options.probeTimeoutMs ?? GEMINI_PROBE_TIMEOUT_MS,
        env: { GEMINI_CLI_NO_RELAUNCH: "true" },
      })) !== null,
  };
}
