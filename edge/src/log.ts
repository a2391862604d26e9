/**
 * The edge's logger: one JSON line per event (`level`, `time`, `msg`, then the ids that tie it
 * to a request, task, runner or trace, then its own fields), or a short human line with
 * `LOG_FORMAT=pretty`. Every line goes through `api/log-redaction.ts` before it is written.
 *
 * High-volume lines (runner lease polls, heartbeats, event batches) are logged with `sampled`:
 * only a `LOG_SAMPLE_RATIO` share of them is written. Errors are never sampled.
 *
 * Routes and objects get a logger with `logFor(env)` (configured once per `env`, like
 * `edgeConfig`) and narrow it with `child({ task_id })`; nothing else calls `console`.
 * @module
 */
import { redactValue } from "#api/log-redaction.js";
import { type LOG_FORMATS, type LOG_LEVELS, LogSettings, type LogConfig } from "./settings/log-settings.js";
import type { VariableOf } from "./settings/settings-slice.js";

export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The ids a line can carry, in the order they are written; any other field follows them. */
export interface LogFields {
  request_id?: string;
  task_id?: string;
  runner_id?: string;
  trace_id?: string;
  [field: string]: unknown;
}

export interface LogOptions {
  level: LogLevel;
  format: LogFormat;
  /** Share (0..1) of `sampled` lines that are written. */
  sampleRatio: number;
  /** Where a finished line goes; `console` by default (workerd and `wrangler dev` collect it). */
  write?: (line: string, level: LogLevel) => void;
  random?: () => number;
  now?: () => number;
}

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A high-volume line: written for a `sampleRatio` share of calls, always when `level` is error. */
  sampled(level: LogLevel, msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const ID_FIELDS = ["request_id", "task_id", "runner_id", "trace_id"] as const;

function consoleWrite(line: string, level: LogLevel): void {
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

function pretty(entry: Record<string, unknown>): string {
  const { level, time, msg, ...rest } = entry;
  const extras = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return `${String(time)} ${String(level).toUpperCase().padEnd(5)} ${String(msg)}${extras ? ` ${extras}` : ""}`;
}

/**
 * @example
 * const log = createLogger({ level: "info", format: "json", sampleRatio: 0.1 }).child({ task_id });
 * log.warn("dispatcher enqueue failed; the alarm retries", { error: String(err) });
 */
export function createLogger(options: LogOptions, base: LogFields = {}): Logger {
  const write = options.write ?? consoleWrite;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const emit = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    if (RANK[level] < RANK[options.level]) return;
    const all: LogFields = { ...base, ...fields };
    const entry: Record<string, unknown> = { level, time: new Date(now()).toISOString(), msg };
    for (const id of ID_FIELDS) if (all[id] != null) entry[id] = all[id];
    for (const [k, v] of Object.entries(all)) if (!(ID_FIELDS as readonly string[]).includes(k) && v !== undefined) entry[k] = v;
    const clean = redactValue(entry) as Record<string, unknown>;
    write(options.format === "pretty" ? pretty(clean) : JSON.stringify(clean), level);
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    sampled(level, msg, fields) {
      if (level === "error" || random() < options.sampleRatio) emit(level, msg, fields);
    },
    child: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

/** The bindings the logger reads. */
type LogEnv = { readonly [Variable in VariableOf<typeof LogSettings>]?: string };

const loggers = new WeakMap<object, Logger>();

/** The edge's logger for these bindings, built once per `env`. */
export function logFor(env: LogEnv): Logger {
  const cached = loggers.get(env);
  if (cached) return cached;
  const logger = createLogger(parseLogConfig(env));
  loggers.set(env, logger);
  return logger;
}

/**
 * Reads the three log settings, falling back to the default for a bad value rather than
 * throwing: a logger must work even while the rest of the configuration is invalid, so that
 * the error saying so can be logged. (`edgeConfig` reads the same settings strictly.)
 */
export function parseLogConfig(env: LogEnv): LogConfig {
  return LogSettings.readLenient(env);
}
