/**
 * The runner's pino logger: JSON lines (or a short human line with `log_format: pretty`), every
 * line passed through `api/log-redaction.ts` — its fields and its message — and `runner_id` on
 * every line. `sampledLogger` wraps a logger for high-volume lines (lease polls, heartbeats,
 * output posts): only a `log_sample_ratio` share of its debug/info/warn lines is written; its
 * errors always are.
 * @module
 */
import { Writable } from "node:stream";
import { pino, type DestinationStream, type Logger } from "pino";
import { redactText, redactValue } from "#api/log-redaction.js";

export interface RunnerLoggerOptions {
  level: string;
  format: "json" | "pretty";
  runnerId: string;
  /** Where lines go; stdout by default. */
  destination?: DestinationStream;
}

/** Rewrites pino's JSON lines as `time LEVEL msg key=value …`. */
function prettyStream(out: DestinationStream): DestinationStream {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (!line) continue;
        try {
          const { level, time, msg, ...rest } = JSON.parse(line) as Record<string, unknown>;
          const extras = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
          out.write(`${String(time)} ${String(level).toUpperCase().padEnd(5)} ${String(msg ?? "")}${extras.length ? ` ${extras.join(" ")}` : ""}\n`);
        } catch {
          out.write(`${line}\n`);
        }
      }
      done();
    },
  });
}

/**
 * @example
 * const logger = createRunnerLogger({ level: config.log_level, format: config.log_format, runnerId: config.runner_id });
 */
export function createRunnerLogger(options: RunnerLoggerOptions): Logger {
  const out = options.destination ?? pino.destination(1);
  return pino(
    {
      level: options.level,
      base: { runner_id: options.runnerId },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: "msg",
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => redactValue(fields) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === "string" ? redactText(a) : a)) as Parameters<typeof method>);
        },
      },
      // Defence in depth: pino's own path redaction for the fields that matter most.
      redact: {
        paths: [
          "lease_id",
          "*.lease_id",
          "runner_secret",
          "*.runner_secret",
          "runner_credential",
          "*.runner_credential",
          "secret",
          "access_token",
          "*.access_token",
          "env",
          "*.env",
        ],
        censor: "[redacted]",
      },
    },
    options.format === "pretty" ? prettyStream(out) : out,
  );
}

const SAMPLED_METHODS = new Set(["trace", "debug", "info", "warn"]);

/** A logger writing a `ratio` share of its trace/debug/info/warn lines; error and fatal always. */
export function sampledLogger(logger: Logger, ratio: number, random: () => number = Math.random): Logger {
  return new Proxy(logger, {
    get(target, prop, receiver) {
      if (prop === "child") return (...args: Parameters<Logger["child"]>) => sampledLogger(target.child(...args) as unknown as Logger, ratio, random);
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop === "string" && SAMPLED_METHODS.has(prop) && typeof value === "function") {
        return (...args: unknown[]) => {
          if (random() < ratio) (value as (...a: unknown[]) => void).apply(target, args);
        };
      }
      return value;
    },
  });
}
