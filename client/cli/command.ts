/**
 * What a `codeforge` command is: a name, its usage lines for `--help`, and a `run` that reads
 * its own flags (with `parseFlags`, which adds the global ones) and returns the exit code.
 * Commands get the API client and the output through `CommandContext`, so tests and the real
 * binary run them the same way.
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { ApiClient } from "../api-client.js";
import { UsageError } from "./exit-codes.js";
import type { Output } from "./output.js";

type OptionsConfig = NonNullable<ParseArgsConfig["options"]>;

/** Flags every command takes. */
export const GLOBAL_OPTIONS = {
  url: { type: "string" },
  key: { type: "string" },
  config: { type: "string" },
  "no-color": { type: "boolean", default: false },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const satisfies OptionsConfig;

/** Global flags that take a value, so the command name can be found after them. */
export const GLOBAL_VALUE_FLAGS = ["--url", "--key", "--config"];

export interface CommandContext {
  /** The API client, built from flags, environment or config file on first use. */
  client(): ApiClient;
  out: Output;
}

export interface Command {
  name: string;
  /** One line per form, after `codeforge `, as `--help` shows them. */
  usage: string[];
  /** `argv` is everything after the command's name. Returns the exit code. */
  run(argv: string[], ctx: CommandContext): Promise<number>;
}

/** Parses a command's flags and the global ones; unknown flags are usage errors. */
export function parseFlags<const T extends OptionsConfig>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message.replace(/\. To specify a positional argument.*$/s, "") : String(err));
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
