/**
 * The runner's OpenTelemetry tracing: spans for each attempt (`runner.lease`) and its steps
 * (clone, CLI run, describing changes, every report to the edge), in the task's trace.
 *
 * The edge hands each lease a `traceparent` (its lease span, in the trace started by the request
 * that created the task). The attempt's span is its child, the steps are children of that, and
 * every report the runner sends carries a `traceparent` header naming the span it is sent from,
 * so the edge's spans for reports continue the same trace. The edge made the sampling decision
 * when the task was created; the runner follows it (parent-based sampling), and its own ratio
 * only applies to an attempt without a parent — unless `OTEL_TRACES_SAMPLER=traceidratio`.
 *
 * Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or `…_TRACES_ENDPOINT`) is set: then no SDK is
 * started, spans are the API's no-op ones that pass their parent's context through, and reports
 * still carry the lease's `traceparent`, so the edge's side of the trace stays whole.
 * Export is OTLP/HTTP JSON in batches, off the task's path: a collector that is down costs a
 * failed background request now and then, never a task.
 * @module
 */
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes, type Span } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider, ParentBasedSampler, TraceIdRatioBasedSampler } from "@opentelemetry/sdk-trace-node";
import { formatTraceparent, parseTraceparent } from "#api/trace-context.js";
import type { TracingConfig } from "./tracing-config.js";

export interface RunnerTracing {
  /** Exports what is still buffered (bounded by `timeoutMs`) and stops the SDK. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/**
 * Starts tracing for the process (once, from `main.ts`). With `config` null only the context
 * manager is installed, which is what carries the lease's trace to the reports.
 * @example const tracing = startTracing(tracingConfigFromEnv(process.env), { runnerId, version });
 */
export function startTracing(config: TracingConfig | null, identity: { runnerId: string; version: string }): RunnerTracing {
  if (!config) {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    return { shutdown: async () => {} };
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": config.serviceName, "service.version": identity.version, "service.instance.id": identity.runnerId }),
    sampler: config.followParent ? new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.ratio) }) : new TraceIdRatioBasedSampler(config.ratio),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: config.url, headers: config.headers }), { scheduledDelayMillis: 1_000 })],
  });
  provider.register();
  return {
    async shutdown(timeoutMs = 5_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      await Promise.race([provider.shutdown().catch(() => undefined), timeout]);
      clearTimeout(timer);
    },
  };
}

const tracer = () => trace.getTracer("codeforge-runner");

/**
 * Runs `fn` in a span that is a child of the current one. An error thrown by `fn` marks the
 * span as failed (with the error's type, never its message) and is rethrown.
 * @example await withSpan("git.push", () => pushBranch(options), { "codeforge.branch": branch });
 */
export function withSpan<T>(name: string, fn: (span: Span) => Promise<T>, attributes?: Attributes, kind: SpanKind = SpanKind.INTERNAL): Promise<T> {
  return tracer().startActiveSpan(name, { kind, attributes }, (span) => runInSpan(span, fn));
}

/** Runs `fn` in a span whose parent is the remote span `traceparent` names (the edge's lease span). */
export function withRemoteParent<T>(traceparent: string | null, name: string, fn: (span: Span) => Promise<T>, attributes?: Attributes): Promise<T> {
  const parent = parseTraceparent(traceparent);
  const parentContext = parent
    ? trace.setSpanContext(ROOT_CONTEXT, {
        traceId: parent.traceId,
        spanId: parent.parentId,
        traceFlags: parseInt(parent.flags, 16) & TraceFlags.SAMPLED,
        isRemote: true,
      })
    : ROOT_CONTEXT;
  return tracer().startActiveSpan(name, { kind: SpanKind.CONSUMER, attributes }, parentContext, (span) => runInSpan(span, fn));
}

/** The current span as a `traceparent` header value, or null outside any trace (the lease poll). */
export function currentTraceparent(): string | null {
  const c = trace.getActiveSpan()?.spanContext();
  if (!c || !trace.isSpanContextValid(c)) return null;
  return formatTraceparent({ traceId: c.traceId, parentId: c.spanId, flags: c.traceFlags & TraceFlags.SAMPLED ? "01" : "00" });
}

async function runInSpan<T>(span: Span, fn: (span: Span) => Promise<T>): Promise<T> {
  try {
    return await fn(span);
  } catch (err) {
    // The type only: messages (a git error, say) can quote a URL or a token.
    span.setAttribute("error.type", err instanceof Error ? err.name : typeof err);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw err;
  } finally {
    span.end();
  }
}
