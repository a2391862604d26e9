/**
 * Where the runner's settings come from besides the environment: its command line and its YAML
 * file. Kept apart from the schema (`config.ts`) so that each stays one concept.
 *
 * Per-CLI environment comes from `CODEFORGE_CLI_ENV_<CLI>_<NAME>` variables (`mergeCliEnv`).
 *
 * The command line takes `--config <file>`, `--check` (handled by `main.ts`) and the flags of
 * the settings an operator sets per invocation rather than per deployment: `--once` and
 * `--idle-exit-seconds <n>`. A flag wins over the file and the environment. Anything else is an
 * error, so a typo never silently runs a long-lived runner where a run-once one was meant.
 * @module
 */
import { parse as parseYaml, YAMLParseError } from "yaml";

/** A configuration problem, worded for the operator. Never contains secret values. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface CommandLine {
  /** `--config <file>`. */
  configFile?: string;
  /** Settings given as flags, by YAML key: they win over the file and the environment. */
  settings: Record<string, unknown>;
}

/** Flags that take no value, by YAML key. */
const SWITCHES: Readonly<Record<string, string>> = { "--once": "once" };
/** Flags that take a value (`--flag value` or `--flag=value`), by YAML key. */
const OPTIONS: Readonly<Record<string, string>> = { "--config": "config", "--idle-exit-seconds": "idle_exit_seconds" };

/**
 * @example
 * parseCommandLine(["--config", "runner.yaml", "--once"]); // { configFile: "runner.yaml", settings: { once: true } }
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const settings: Record<string, unknown> = {};
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--check") continue;
    const switched = SWITCHES[arg];
    if (switched) {
      settings[switched] = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const key = OPTIONS[flag];
    if (!key)
      throw new ConfigError(`unknown argument ${JSON.stringify(arg.slice(0, 60))}; expected --config <file>, --once, --idle-exit-seconds <n> or --check`);
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (!value) throw new ConfigError(`${flag} needs a value`);
    if (key === "config") configFile = value;
    else settings[key] = value;
  }
  return { configFile, settings };
}

/** The YAML file's mapping of settings; its errors name a position, never quote a line. */
export function readConfigFile(file: string, readFile: (file: string) => string): Record<string, unknown> {
  let text: string;
  try {
    text = readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "read error";
    throw new ConfigError(`Cannot read config file ${file}: ${code}`);
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    // Position only: the library's message quotes the line, which may hold the secret.
    const pos = err instanceof YAMLParseError ? err.linePos?.[0] : undefined;
    throw new ConfigError(`Config file ${file} is not valid YAML${pos ? ` (line ${pos.line}, column ${pos.col})` : ""}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new ConfigError(`Config file ${file} must be a YAML mapping of settings`);
  }
  return data as Record<string, unknown>;
}

/** Prefix of the variables that fill `cli_env`: `CODEFORGE_CLI_ENV_<CLI>_<NAME>`. */
export const CLI_ENV_PREFIX = "CODEFORGE_CLI_ENV_";

/** `CODEFORGE_CLI_ENV_<CLI>_<NAME>` variables, laid over the file's `cli_env`. */
export function mergeCliEnv(merged: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>): void {
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(CLI_ENV_PREFIX) || value === undefined) continue;
    const rest = name.slice(CLI_ENV_PREFIX.length);
    const split = rest.indexOf("_");
    const cli = rest.slice(0, split).toLowerCase();
    const variable = rest.slice(split + 1);
    if (split <= 0 || !variable) throw new ConfigError(`${name}: expected ${CLI_ENV_PREFIX}<CLI>_<NAME>, e.g. ${CLI_ENV_PREFIX}CLAUDE_ANTHROPIC_API_KEY`);
    const current = (merged.cli_env ?? {}) as Record<string, Record<string, string>>;
    merged.cli_env = { ...current, [cli]: { ...current[cli], [variable]: value } };
  }
}
