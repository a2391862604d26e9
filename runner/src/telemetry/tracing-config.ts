/**
 * The runner's tracing settings, from the standard OpenTelemetry variables (`OTEL_*`), parsed
 * once at start-up like the rest of its configuration. Off unless an OTLP endpoint is set. The
 * schema is the edge's (`api/otlp-env.ts`) plus `OTEL_TRACES_SAMPLER`, which only the runner
 * reads: it is the one that continues a parent's decision or not.
 * @module
 */
import { z } from "zod";
import { otlpExport, OtlpEnv, type OtlpExport } from "#api/otlp-env.js";

export interface TracingConfig extends OtlpExport {
  /**
   * True (`parentbased_traceidratio`, the default): an attempt is recorded when the lease's
   * context says the task is sampled; `ratio` decides only parentless ones. False
   * (`traceidratio`): the ratio decides every attempt.
   */
  followParent: boolean;
}

const RunnerOtlpEnv = OtlpEnv.extend({
  OTEL_TRACES_SAMPLER: z
    .enum(["parentbased_traceidratio", "traceidratio"], { error: "must be parentbased_traceidratio or traceidratio" })
    .default("parentbased_traceidratio"),
});

/**
 * Reads the standard `OTEL_*` variables; null when tracing is off (no endpoint, or
 * `OTEL_SDK_DISABLED=true`). Throws naming the variable when one is malformed.
 */
export function tracingConfigFromEnv(env: Record<string, string | undefined>): TracingConfig | null {
  const parsed = RunnerOtlpEnv.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${issue.path.join(".")}: ${issue.message}`);
  }
  const exported = otlpExport(parsed.data, "codeforge-runner");
  return exported && { ...exported, followParent: parsed.data.OTEL_TRACES_SAMPLER === "parentbased_traceidratio" };
}
