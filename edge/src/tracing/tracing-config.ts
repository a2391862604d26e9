/**
 * The edge's tracing settings: the standard OpenTelemetry variables, parsed by the schema the
 * runner uses too (`api/otlp-env.ts`).
 *
 * Tracing is off unless an OTLP endpoint is set: with it off, neither the Worker nor any
 * Durable Object is wrapped, so an untraced edge pays nothing for the feature. It is read apart
 * from `edgeConfig` because `index.ts` decides the wrapping when the module loads.
 * @module
 */
import { otlpExport, OtlpEnv, type OtlpExport } from "#api/otlp-env.js";

/** The `OTEL_*` bindings the edge reads (vars or secrets; the headers usually hold a token). */
export type TracingEnv = { readonly [Variable in keyof OtlpEnv]?: string };

/** Where spans go, with which headers, the share of new traces recorded (a task's whole trace follows its creation's decision), and the service name. */
export type TracingConfig = OtlpExport;

const cache = new WeakMap<object, TracingConfig | null>();

/** The tracing settings, or null when tracing is off; parsed once per `env` object. */
export function tracingConfig(env: TracingEnv): TracingConfig | null {
  if (cache.has(env)) return cache.get(env)!;
  const parsed = OtlpEnv.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`invalid CodeForge edge configuration: ${problems}`);
  }
  const config = otlpExport(parsed.data, "codeforge-edge");
  cache.set(env, config);
  return config;
}
