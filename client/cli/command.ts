/**
 * What a `codeforge` command is: a name, a one-line summary, its usage forms, its flags (each
 * described), examples, and a `run` that reads its own flags (with `parseFlags`, which adds the
 * global ones) and returns the exit code. A command may instead hold subcommands (`keys
 * create`). The same declarations drive parsing, `--help`, suggestions and shell completion.
 * Commands get the API client and the output through `CommandContext`, so tests and the real
 * binary run them the same way.
 * @module
 */
import { parseArgs } from "node:util";
import { didYouMean } from "#api/suggest.js";
import type { ApiClient } from "../api-client.js";
import { UsageError } from "./exit-codes.js";
import type { Output } from "./output.js";

/** One flag: how it parses (as `node:util` `parseArgs` reads it) and how help shows it. */
export interface FlagSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  default?: string | boolean | string[];
  /** The value's placeholder in help, e.g. `<url>` (string flags). */
  value?: string;
  /** One line, starting with a capital, no final full stop. */
  description: string;
  /** The values it accepts, offered by help and completion. */
  choices?: readonly string[];
}

export type FlagSpecs = Record<string, FlagSpec>;

/** Flags every command takes. */
export const GLOBAL_OPTIONS = {
  url: { type: "string", value: "<url>", description: "The edge's base URL (else CODEFORGE_URL, else the config file)" },
  key: { type: "string", value: "<key>", description: "An API key (else CODEFORGE_API_KEY, else the config file)" },
  config: { type: "string", value: "<file>", description: "A JSON config file with url and api_key (else CODEFORGE_CONFIG)" },
  "no-color": { type: "boolean", default: false, description: "Plain output without colour (also NO_COLOR)" },
  json: { type: "boolean", default: false, description: "Machine-readable output; errors as one JSON line on stderr" },
  jq: { type: "string", value: "<expression>", description: "Filter the JSON output with a jq expression (implies --json)" },
  help: { type: "boolean", short: "h", default: false, description: "Show help for the command" },
} as const satisfies FlagSpecs;

/** Global flags that take a value, so the command name can be found after them. */
export const GLOBAL_VALUE_FLAGS = ["--url", "--key", "--config", "--jq"];

export interface CommandContext {
  /** The API client, built from flags, environment or config file on first use. */
  client(): ApiClient;
  out: Output;
}

export interface Command {
  name: string;
  /** One line for the command list: what it does, lower case, no full stop. */
  summary: string;
  /** The forms it takes, after `codeforge ` (a subcommand's include its parent's name). */
  usage: string[];
  /** Paragraphs shown by `--help` under the summary. */
  description?: string;
  flags: FlagSpecs;
  /** Shown by `--help`: command lines, each optionally preceded by a `# comment` line. */
  examples?: string[];
  /** The positional arguments' kinds, for completion (`task-id`, `key-id`, …). */
  args?: string[];
  /** A group of commands (`keys`): its subcommands run, each with its own flags. */
  subcommands?: readonly Command[];
  /** For a group: the subcommand run when none is named. */
  defaultSubcommand?: string;
  /** `argv` is everything after the command's name. Returns the exit code. Absent on a group. */
  run?(argv: string[], ctx: CommandContext): Promise<number>;
}

/** Parses a command's flags and the global ones; unknown flags are usage errors naming the nearest. */
export function parseFlags<const T extends FlagSpecs>(argv: string[], options: T) {
  const all = { ...GLOBAL_OPTIONS, ...options };
  try {
    const parsed = parseArgs({ args: argv, options: all, allowPositionals: true, strict: true });
    // --jq filters JSON: it implies --json.
    const values = parsed.values as Record<string, unknown>;
    if (values.jq !== undefined) values.json = true;
    return parsed;
  } catch (err) {
    const message = err instanceof Error ? err.message.replace(/\. To specify a positional argument.*$/s, "") : String(err);
    const unknown = /^Unknown option '--([^']+)'/.exec(message);
    const hint = unknown ? didYouMean(unknown[1]!, Object.keys(all), (name) => `--${name}`) : "";
    throw new UsageError(`${message}${hint}`);
  }
}

/** A whole number flag, or undefined when absent. */
export function intFlag(flag: string, value: string | undefined, bounds: { min?: number; max?: number } = {}): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${flag} takes a whole number, got ${JSON.stringify(value)}`);
  const n = Number(value);
  if (bounds.min !== undefined && n < bounds.min) throw new UsageError(`--${flag} must be at least ${bounds.min}`);
  if (bounds.max !== undefined && n > bounds.max) throw new UsageError(`--${flag} must be at most ${bounds.max}`);
  return n;
}

/**
 * The secret in the environment variable a `--…-env <NAME>` flag names: secrets are never taken
 * as flag values, which other users of the machine could read in the process list.
 */
export function secretFromEnv(flag: string, name: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (name === undefined) return undefined;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`--${flag} takes the name of an environment variable, got ${JSON.stringify(name)}`);
  const value = env[name];
  if (!value) throw new UsageError(`--${flag} ${name}: that environment variable is not set or is empty`);
  return value;
}

/**
 * A task's `env` from `--env NAME` flags: each value taken from the caller's environment under
 * the same name, never from the command line (where `ps` shows it).
 */
export function envFromNames(names: readonly string[], env: NodeJS.ProcessEnv = process.env): Record<string, string> | undefined {
  if (names.length === 0) return undefined;
  return Object.fromEntries(names.map((name) => [name, secretFromEnv("env", name, env)!]));
}

/** Exactly `names.length` positional arguments, named in the error when some are missing. */
export function positionals(command: string, given: string[], names: string[]): string[] {
  if (given.length < names.length)
    throw new UsageError(
      `${command} needs ${names
        .slice(given.length)
        .map((n) => `<${n}>`)
        .join(" ")}`,
    );
  if (given.length > names.length) throw new UsageError(`unexpected arguments: ${given.slice(names.length).join(" ")}`);
  return given;
}
