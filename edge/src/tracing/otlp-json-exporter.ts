/**
 * Sends spans to an OTLP/HTTP receiver as JSON (`ExportTraceServiceRequest`), with a time limit.
 *
 * otel-cf-workers ships an exporter that does the same without a limit: behind a collector that
 * accepts connections and never answers, every export would stay open as long as the platform
 * lets it. This one gives up after `EXPORT_TIMEOUT_MS`, like the OpenTelemetry SDKs' default.
 * @module
 */
import type { ExporterConfig, TraceFlushableSpanProcessor } from "@microlabs/otel-cf-workers";
import { JsonTraceSerializer } from "@opentelemetry/otlp-transformer";

type SpanExporter = Exclude<ExporterConfig, { url: string }>;
type ReadableSpan = Parameters<TraceFlushableSpanProcessor["onEnd"]>[0];
type ExportResult = Parameters<Parameters<SpanExporter["export"]>[1]>[0];

/** The OpenTelemetry SDKs' default `OTEL_EXPORTER_OTLP_TIMEOUT`. */
export const EXPORT_TIMEOUT_MS = 10_000;

/** `ExportResultCode` of `@opentelemetry/core`. */
const SUCCESS = 0;
const FAILED = 1;

export class OtlpJsonExporter implements SpanExporter {
  constructor(private readonly target: { url: string; headers: Record<string, string>; timeoutMs?: number }) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const body = JsonTraceSerializer.serializeRequest(spans as unknown as Parameters<typeof JsonTraceSerializer.serializeRequest>[0]);
    fetch(this.target.url, {
      method: "POST",
      headers: { ...this.target.headers, "content-type": "application/json" },
      body,
      signal: AbortSignal.timeout(this.target.timeoutMs ?? EXPORT_TIMEOUT_MS),
    })
      .then(async (response) => {
        await response.body?.cancel();
        done(response.ok ? { code: SUCCESS } : { code: FAILED, error: new Error(`the collector answered ${response.status}`) });
      })
      .catch((err: unknown) => done({ code: FAILED, error: err instanceof Error ? err : new Error(String(err)) }));
  }

  async shutdown(): Promise<void> {}
}
