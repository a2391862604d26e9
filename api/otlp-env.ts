/**
 * The standard OpenTelemetry variables (`OTEL_*`) the edge and the runner both read, parsed by
 * one schema: where spans go, with which headers, how many, under which service name. The
 * runner adds `OTEL_TRACES_SAMPLER` (`runner/src/telemetry/tracing-config.ts`); the edge reads
 * these alone (`edge/src/tracing/tracing-config.ts`). No Node or Worker APIs.
 * @module
 */
import { z } from "zod";
import { numberSetting } from "./settings.js";

const RATIO = "must be a number from 0 to 1";

/**
 * The `OTEL_*` variables both sides read. `OTEL_SDK_DISABLED` follows the specification's rule
 * rather than `api/settings.ts`'s booleans: only `true` (any case) disables; any other value is
 * ignored, as every OpenTelemetry SDK does.
 */
export const OtlpEnv = z.object({
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().optional(),
  OTEL_EXPORTER_OTLP_HEADERS: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: z.string().optional(),
  /** Share of new traces recorded, 0–1; unset or blank: all of them. */
  OTEL_TRACES_SAMPLER_ARG: numberSetting(z.number({ error: RATIO }).min(0, RATIO).max(1, RATIO).default(1)),
  OTEL_SERVICE_NAME: z.string().optional(),
  OTEL_SDK_DISABLED: z.string().optional(),
});
export type OtlpEnv = z.output<typeof OtlpEnv>;

/** Where and how spans are exported. */
export interface OtlpExport {
  /** Where spans are POSTed as OTLP/HTTP (the full `/v1/traces` URL). */
  url: string;
  /** Sent with every export, e.g. an API key of the tracing backend. */
  headers: Record<string, string>;
  /** Share of new traces recorded, 0–1. */
  ratio: number;
  serviceName: string;
}

/**
 * The export settings of parsed `OTEL_*` variables; null when tracing is off (no endpoint, or
 * `OTEL_SDK_DISABLED=true`). `serviceName` is the default for `OTEL_SERVICE_NAME`.
 * @example
 * otlpExport(OtlpEnv.parse({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" }), "codeforge-edge")?.url;
 * // "http://127.0.0.1:4318/v1/traces"
 */
export function otlpExport(env: OtlpEnv, serviceName: string): OtlpExport | null {
  const url = otlpTracesUrl(env.OTEL_EXPORTER_OTLP_ENDPOINT, env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  if (url === null || env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return null;
  return {
    url,
    headers: { ...parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_HEADERS), ...parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS) },
    ratio: env.OTEL_TRACES_SAMPLER_ARG,
    serviceName: env.OTEL_SERVICE_NAME?.trim() || serviceName,
  };
}

/**
 * The endpoint of an OTLP/HTTP exporter as the specification builds it: the traces endpoint
 * as given, or the base endpoint with `/v1/traces` appended. Null when neither is set.
 */
export function otlpTracesUrl(base: string | undefined, traces: string | undefined): string | null {
  if (traces?.trim()) return traces.trim();
  if (!base?.trim()) return null;
  return `${base.trim().replace(/\/+$/, "")}/v1/traces`;
}

/** `key=value,key2=value2`, values percent-decoded (the OTLP exporter variables' format). */
export function parseOtlpHeaders(text: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (text ?? "").split(",")) {
    const at = pair.indexOf("=");
    if (at <= 0) continue;
    headers[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return headers;
}
