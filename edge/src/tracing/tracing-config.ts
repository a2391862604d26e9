/**
 * The edge's tracing settings, read from the standard OpenTelemetry variables.
 *
 * Tracing is off unless an OTLP endpoint is set: with it off, neither the Worker nor any
 * Durable Object is wrapped, so an untraced edge pays nothing for the feature.
 * @module
 */
import { z } from "zod";
import { otlpTracesUrl, parseOtlpHeaders } from "../../../api/otlp-env.js";

/** The `OTEL_*` bindings the edge reads (vars or secrets; the headers usually hold a token). */
export interface TracingEnv {
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_HEADERS?: string;
  OTEL_EXPORTER_OTLP_TRACES_HEADERS?: string;
  OTEL_TRACES_SAMPLER_ARG?: string;
  OTEL_SERVICE_NAME?: string;
  OTEL_SDK_DISABLED?: string;
}

export interface TracingConfig {
  /** Where spans are POSTed as OTLP/HTTP JSON (the full `/v1/traces` URL). */
  url: string;
  /** Sent with every export, e.g. an API key of the tracing backend. */
  headers: Record<string, string>;
  /** Share of new traces recorded, 0–1. A task's whole trace follows its creation's decision. */
  ratio: number;
  serviceName: string;
}

const Schema = z.object({
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().optional(),
  OTEL_EXPORTER_OTLP_HEADERS: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: z.string().optional(),
  OTEL_TRACES_SAMPLER_ARG: z
    .string()
    .optional()
    .transform((s) => (s === undefined || s.trim() === "" ? 1 : Number(s)))
    .pipe(z.number({ error: "must be a number from 0 to 1" }).min(0, "must be a number from 0 to 1").max(1, "must be a number from 0 to 1")),
  OTEL_SERVICE_NAME: z.string().optional(),
  OTEL_SDK_DISABLED: z.string().optional(),
});

const cache = new WeakMap<object, TracingConfig | null>();

/** The tracing settings, or null when tracing is off; parsed once per `env` object. */
export function tracingConfig(env: TracingEnv): TracingConfig | null {
  if (cache.has(env)) return cache.get(env)!;
  const parsed = Schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`invalid CodeForge edge configuration: ${problems}`);
  }
  const c = parsed.data;
  const url = otlpTracesUrl(c.OTEL_EXPORTER_OTLP_ENDPOINT, c.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const disabled = c.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true";
  const config: TracingConfig | null =
    url === null || disabled
      ? null
      : {
          url,
          headers: { ...parseOtlpHeaders(c.OTEL_EXPORTER_OTLP_HEADERS), ...parseOtlpHeaders(c.OTEL_EXPORTER_OTLP_TRACES_HEADERS) },
          ratio: c.OTEL_TRACES_SAMPLER_ARG,
          serviceName: c.OTEL_SERVICE_NAME?.trim() || "codeforge-edge",
        };
  cache.set(env, config);
  return config;
}
