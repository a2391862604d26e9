/**
 * Wraps the Worker and its Durable Object classes with `@microlabs/otel-cf-workers` when
 * tracing is configured, and leaves them untouched when it is not.
 *
 * Whose trace a request joins:
 * - runner routes (`/runner/v1/…`) continue the `traceparent` the runner sends, which is the
 *   task's trace (handed over in the lease), so reports appear under the runner's spans;
 * - every other route starts a trace of its own. A `traceparent` a client sends is never the
 *   parent of our spans (it would let any caller graft our spans, and the sampling decision,
 *   onto a trace of its choosing); it is recorded as a span link on the request's span, so the
 *   two traces can still be joined by whoever can see both.
 * A task created by a request keeps that request's trace for its whole life (see `task-span.ts`).
 * @module
 */
import { instrument, instrumentDO, type TraceConfig } from "@microlabs/otel-cf-workers";
import { trace, TraceFlags } from "@opentelemetry/api";
import { parseTraceparent } from "#api/trace-context.js";
import { RUNNER_API_PREFIX } from "#api/runner-protocol.js";
import { TraceBatchProcessor } from "./trace-batch-processor.js";
import { tracingConfig, type TracingConfig, type TracingEnv } from "./tracing-config.js";

/** The attribute naming why a link is there, on the link itself. */
export const CLIENT_TRACE_LINK = "codeforge.link.client_traceparent";

const isRunnerRequest = (request: Request) => new URL(request.url).pathname.startsWith(`${RUNNER_API_PREFIX}/`);

/** One processor per configuration (the library asks for the settings on every request). */
const processors = new WeakMap<TracingConfig, TraceBatchProcessor>();
function processorFor(config: TracingConfig): TraceBatchProcessor {
  let processor = processors.get(config);
  if (!processor) processors.set(config, (processor = TraceBatchProcessor.toUrl(config.url, config.headers)));
  return processor;
}

/** The library's settings for one environment (only called when tracing is configured). */
function libraryConfig(env: TracingEnv): TraceConfig {
  const config = tracingConfig(env)!;
  return {
    service: { name: config.serviceName },
    // Our processor: the library's keeps every trace id it saw for the isolate's life.
    spanProcessors: processorFor(config),
    // The ratio decides new traces; a parent's decision (a runner report's) is followed.
    sampling: { headSampler: { ratio: config.ratio, acceptRemote: true } },
    handlers: { fetch: { acceptTraceContext: isRunnerRequest } },
    // Outgoing fetches are not wrapped: the library would record their full URL, and a
    // callback URL may carry a token in its query. Webhook attempts get spans of our own.
    instrumentation: { instrumentGlobalFetch: false, instrumentGlobalCache: false },
  };
}

/** Path segments that are ids (`tsk_…`, `key_…`, `dlv_…`): replaced by `:id` in span names. */
const ID_SEGMENT = /^[a-z]{2,8}_[0-9a-z]{16,}$/;

/** The request's path with ids replaced, e.g. `/api/v1/tasks/:id/events`. */
export function routeOf(request: Request): string {
  return new URL(request.url).pathname
    .split("/")
    .map((segment) => (ID_SEGMENT.test(segment) ? ":id" : segment))
    .join("/");
}

/** Records a client's `traceparent` as a link on the request's span (public routes only). */
function linkClientTrace(request: Request): void {
  if (isRunnerRequest(request)) return;
  const client = parseTraceparent(request.headers.get("traceparent"));
  const span = trace.getActiveSpan();
  if (!client || !span) return;
  span.addLink({
    context: {
      traceId: client.traceId,
      spanId: client.parentId,
      traceFlags: parseInt(client.flags, 16) & TraceFlags.SAMPLED,
      isRemote: true,
    },
    attributes: { [CLIENT_TRACE_LINK]: true },
  });
}

type FetchHandler<E> = (request: Request, env: E, ctx: ExecutionContext) => Response | Promise<Response>;

/**
 * The Worker's handler, traced when `env` configures tracing.
 * @example export default traceWorker(createApp().fetch, env);
 */
export function traceWorker<E extends TracingEnv>(fetch: FetchHandler<E>, env: TracingEnv): { fetch: FetchHandler<E> } {
  if (!tracingConfig(env)) return { fetch };
  const traced = instrument<E, unknown, unknown>(
    {
      fetch(request, env, ctx) {
        linkClientTrace(request);
        // The library names the span after `http.route`: a path with ids taken out keeps names few.
        trace.getActiveSpan()?.setAttribute("http.route", routeOf(request));
        return fetch(request, env, ctx);
      },
    },
    (e: E) => libraryConfig(e),
  );
  return { fetch: traced.fetch as FetchHandler<E> };
}

/**
 * A Durable Object class, traced when `env` configures tracing: its `fetch` and `alarm` get
 * spans; RPC methods get the tracing context (spans of their own come from `task-span.ts`).
 * @example export const TaskObject = traceObject(TaskObjectClass, env);
 */
export function traceObject<C>(objectClass: C, env: TracingEnv): C {
  if (!tracingConfig(env)) return objectClass;
  return instrumentDO(objectClass as Parameters<typeof instrumentDO>[0], (e: TracingEnv) => libraryConfig(e)) as C;
}
