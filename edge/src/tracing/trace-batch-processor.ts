/**
 * The edge's span processor: spans are held per trace and exported together once every span of
 * that trace started in this isolate has ended (or when the Worker flushes the trace at the end
 * of a request), then the trace is forgotten.
 *
 * It replaces otel-cf-workers' own `BatchTraceSpanProcessor` (1.0.0-rc.52), which keeps a state
 * object per trace id for the life of the isolate: harmless in a short-lived Worker isolate, a
 * steady leak in a Durable Object that sees a new trace on every request and alarm. Only spans
 * whose trace is sampled are exported.
 * @module
 */
import type { ExporterConfig, TraceFlushableSpanProcessor } from "@microlabs/otel-cf-workers";
import { TraceFlags } from "@opentelemetry/api";
import { OtlpJsonExporter } from "./otlp-json-exporter.js";

type SpanExporter = Exclude<ExporterConfig, { url: string }>;
type ReadableSpan = Parameters<TraceFlushableSpanProcessor["onEnd"]>[0];
type StartedSpan = Parameters<TraceFlushableSpanProcessor["onStart"]>[0];

/** `ExportResultCode.SUCCESS` of `@opentelemetry/core`. */
const EXPORT_SUCCESS = 0;

interface PendingTrace {
  /** Span ids started and not yet ended. */
  open: Set<string>;
  ended: ReadableSpan[];
}

export class TraceBatchProcessor implements TraceFlushableSpanProcessor {
  private readonly traces = new Map<string, PendingTrace>();
  /** Exports in flight, so a flush at the end of a request can wait for its trace's. */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly exporter: SpanExporter) {}

  /** An OTLP/HTTP JSON exporter to `url` behind this processor. */
  static toUrl(url: string, headers: Record<string, string>): TraceBatchProcessor {
    return new TraceBatchProcessor(new OtlpJsonExporter({ url, headers }));
  }

  /** Traces held right now (for tests: it returns to 0 once everything ended). */
  get pendingTraces(): number {
    return this.traces.size;
  }

  onStart(span: StartedSpan): void {
    const { traceId, spanId } = span.spanContext();
    let trace = this.traces.get(traceId);
    if (!trace) this.traces.set(traceId, (trace = { open: new Set(), ended: [] }));
    trace.open.add(spanId);
  }

  onEnd(span: ReadableSpan): void {
    const { traceId, spanId } = span.spanContext();
    const trace = this.traces.get(traceId);
    if (!trace) {
      // Its trace was flushed while it was open: send it on its own.
      this.send(traceId, [span]);
      return;
    }
    trace.open.delete(spanId);
    trace.ended.push(span);
    if (trace.open.size === 0) this.release(traceId);
  }

  async forceFlush(traceId?: string): Promise<void> {
    const ids = traceId === undefined ? [...this.traces.keys()] : [traceId];
    for (const id of ids) if (this.traces.has(id)) this.release(id);
    const waiting = traceId === undefined ? [...this.inFlight.values()] : [this.inFlight.get(traceId)];
    await Promise.allSettled(waiting.filter((p): p is Promise<void> => p !== undefined));
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
  }

  /** Forgets the trace and exports its ended spans (sampled ones only). */
  private release(traceId: string): void {
    const trace = this.traces.get(traceId)!;
    this.traces.delete(traceId);
    this.send(traceId, trace.ended);
  }

  private send(traceId: string, spans: ReadableSpan[]): void {
    const sampled = spans.filter((s) => (s.spanContext().traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED);
    if (sampled.length === 0) return;
    const previous = this.inFlight.get(traceId);
    const exported = new Promise<void>((resolve) => {
      this.exporter.export(sampled, (result) => {
        // A collector that is down costs a line in the log, never the request.
        if (result.code !== EXPORT_SUCCESS) console.log(JSON.stringify({ level: "warn", msg: "exporting spans failed", error: String(result.error) }));
        resolve();
      });
    });
    const tracked = Promise.allSettled([previous, exported]).then(() => {
      if (this.inFlight.get(traceId) === tracked) this.inFlight.delete(traceId);
    });
    this.inFlight.set(traceId, tracked);
  }
}
