/**
 * Spans in a task's trace.
 *
 * A task keeps one trace for its life: the one of the request that created it (its span is the
 * task's root), stored with the task as a `traceparent`. Work that happens later, in other
 * requests or in the task object's alarm — the lease, webhook deliveries — is done in a span
 * whose parent is that stored context, so it lands in the same trace. Durable Object RPC calls
 * carry no tracing context of their own, which is why the `traceparent` travels as data.
 *
 * With tracing off these spans cost nothing: the OpenTelemetry API's no-op tracer hands back the
 * parent's context, so the `traceparent` handed on (to a runner, say) is the stored one.
 * @module
 */
import { context, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes, type Link, type Span } from "@opentelemetry/api";
import { formatTraceparent, newTraceparent, parseTraceparent } from "#api/trace-context.js";

const tracer = () => trace.getTracer("codeforge-edge");

/** The `traceparent` of a span: our own W3C form, so it round-trips through `api/trace-context.ts`. */
export function traceparentOf(span: Span): string {
  const c = span.spanContext();
  return formatTraceparent({ traceId: c.traceId, parentId: c.spanId, flags: (c.traceFlags & TraceFlags.SAMPLED ? 1 : 0).toString(16).padStart(2, "0") });
}

/**
 * The trace a new task gets: the current request's span when tracing is on (the task's root),
 * else a new trace id of our own. Never the client's.
 */
export function newTaskTraceparent(): string {
  const span = trace.getActiveSpan();
  return span && trace.isSpanContextValid(span.spanContext()) ? traceparentOf(span) : newTraceparent();
}

/** The current span's `traceparent`, or null outside any span (tracing off). */
export function currentTraceparent(): string | null {
  const span = trace.getActiveSpan();
  return span && trace.isSpanContextValid(span.spanContext()) ? traceparentOf(span) : null;
}

/** A link to the span a `traceparent` names (for joining two traces: a lease request and its task). */
export function linkTo(traceparent: string | null): Link[] {
  const parent = parseTraceparent(traceparent);
  if (!parent) return [];
  return [{ context: { traceId: parent.traceId, spanId: parent.parentId, traceFlags: parseInt(parent.flags, 16) & TraceFlags.SAMPLED, isRemote: true } }];
}

/**
 * The parent for a span in the task's trace: the current span when it is in that trace already,
 * else the stored one. Built on the active context, not an empty one: the library keeps its
 * configuration in the context, and spans started without it fail.
 */
function contextOf(traceparent: string | null) {
  const parent = parseTraceparent(traceparent);
  if (!parent) return trace.deleteSpan(context.active());
  const active = trace.getActiveSpan()?.spanContext();
  if (active && active.traceId === parent.traceId) return context.active();
  return trace.setSpanContext(context.active(), {
    traceId: parent.traceId,
    spanId: parent.parentId,
    traceFlags: parseInt(parent.flags, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  });
}

export interface TaskSpanOptions {
  attributes?: Attributes;
  kind?: SpanKind;
  links?: Link[];
}

/**
 * Runs `fn` in a span whose parent is the task's stored `traceparent` (or the current span, when
 * it is in that trace already); `fn` gets the span's own `traceparent` to hand on. With tracing
 * off that is the stored one. An error thrown by `fn` marks the span and is rethrown.
 * @example const lease = await inTaskTrace(stored, "task.lease", async (tp) => ({ ...grant, traceparent: tp }));
 */
export function inTaskTrace<T>(
  traceparent: string | null,
  name: string,
  fn: (traceparent: string, span: Span) => Promise<T>,
  options: TaskSpanOptions = {},
): Promise<T> {
  return tracer().startActiveSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes }, contextOf(traceparent), (span) => {
    // Added after the start: otel-cf-workers' tracer does not take links from the options.
    if (options.links?.length) span.addLinks(options.links);
    return runInSpan(span, fn);
  });
}

async function runInSpan<T>(span: Span, fn: (traceparent: string, span: Span) => Promise<T>): Promise<T> {
  try {
    return await fn(traceparentOf(span), span);
  } catch (err) {
    // The type only: a message can quote what it failed on.
    span.setAttribute("error.type", err instanceof Error ? err.name : typeof err);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw err;
  } finally {
    span.end();
  }
}
