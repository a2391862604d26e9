/**
 * The runner's tracing settings, from the standard OpenTelemetry variables (`OTEL_*`), parsed
 * once at start-up like the rest of its configuration. Off unless an OTLP endpoint is set.
 * @module
 */
import { z } from "zod";
import { otlpTracesUrl, parseOtlpHeaders } from "../../../api/otlp-env.js";

export interface TracingConfig {
  /** Full OTLP/HTTP traces URL (`…/v1/traces`). */
  url: string;
  headers: Record<string, string>;
  /** Share of traces recorded, 0–1: parentless ones only, unless `followParent` is false. */
  ratio: number;
  /**
   * True (`parentbased_traceidratio`, the default): an attempt is recorded when the lease's
   * context says the task is sampled. False (`traceidratio`): the ratio decides every attempt.
   */
  followParent: boolean;
  serviceName: string;
}

const TracingEnv = z.object({
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().optional(),
  OTEL_EXPORTER_OTLP_HEADERS: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: z.string().optional(),
  OTEL_TRACES_SAMPLER: z
    .enum(["parentbased_traceidratio", "traceidratio"], { error: "must be parentbased_traceidratio or traceidratio" })
    .default("parentbased_traceidratio"),
  OTEL_TRACES_SAMPLER_ARG: z
    .string()
    .optional()
    .transform((s) => (s === undefined || s.trim() === "" ? 1 : Number(s)))
    .pipe(z.number({ error: "must be a number from 0 to 1" }).min(0, "must be a number from 0 to 1").max(1, "must be a number from 0 to 1")),
  OTEL_SERVICE_NAME: z.string().optional(),
  OTEL_SDK_DISABLED: z.string().optional(),
});

/**
 * Reads the standard `OTEL_*` variables; null when tracing is off (no endpoint, or
 * `OTEL_SDK_DISABLED=true`). Throws naming the variable when one is malformed.
 */
export function tracingConfigFromEnv(env: Record<string, string | undefined>): TracingConfig | null {
  const parsed = TracingEnv.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${issue.path.join(".")}: ${issue.message}`);
  }
  const c = parsed.data;
  const url = otlpTracesUrl(c.OTEL_EXPORTER_OTLP_ENDPOINT, c.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  if (url === null || c.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return null;
  return {
    url,
    headers: { ...parseOtlpHeaders(c.OTEL_EXPORTER_OTLP_HEADERS), ...parseOtlpHeaders(c.OTEL_EXPORTER_OTLP_TRACES_HEADERS) },
    ratio: c.OTEL_TRACES_SAMPLER_ARG,
    followParent: c.OTEL_TRACES_SAMPLER === "parentbased_traceidratio",
    serviceName: c.OTEL_SERVICE_NAME?.trim() || "codeforge-runner",
  };
}
