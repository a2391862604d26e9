/**
 * Unit (workerd, where otel-cf-workers loads): the edge's span processor exports a trace's spans
 * together once they have all ended, only sampled ones, and forgets the trace afterwards — the
 * memory a long-lived Durable Object would otherwise keep for every trace it ever saw.
 */
import { SpanImpl } from "@microlabs/otel-cf-workers";
import { TraceFlags } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { TraceBatchProcessor } from "../../edge/src/tracing/trace-batch-processor.js";

/** A span exporter that keeps what it is given (and can be told to fail, like a collector that is down). */
function recordingExporter(fail = false) {
  const batches: string[][] = [];
  return {
    batches,
    export(spans: { name: string }[], done: (result: { code: number; error?: Error }) => void) {
      batches.push(spans.map((s) => s.name));
      setTimeout(() => done(fail ? { code: 1, error: new Error("connection refused") } : { code: 0 }), 1);
    },
    shutdown: async () => {},
  };
}

let ids = 0;
function span(processor: TraceBatchProcessor, traceId: string, name: string, sampled = true): SpanImpl {
  const s = new SpanImpl({
    name,
    attributes: {},
    resource: undefined as never,
    spanContext: { traceId, spanId: (++ids).toString(16).padStart(16, "0"), traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE },
    onEnd: (ended) => processor.onEnd(ended as never),
  });
  processor.onStart(s as never);
  return s;
}

const T1 = "1".repeat(32);
const T2 = "2".repeat(32);

describe("TraceBatchProcessor", () => {
  it("exports a trace once all its spans ended, in one batch, then forgets it", async () => {
    const exporter = recordingExporter();
    const processor = new TraceBatchProcessor(exporter as never);
    const root = span(processor, T1, "root");
    const child = span(processor, T1, "child");
    const other = span(processor, T2, "other");
    child.end();
    expect(exporter.batches).toEqual([]);
    root.end();
    expect(exporter.batches).toEqual([["child", "root"]]);
    expect(processor.pendingTraces).toBe(1);
    other.end();
    await processor.forceFlush();
    expect(exporter.batches).toEqual([["child", "root"], ["other"]]);
    expect(processor.pendingTraces).toBe(0);
  });

  it("drops unsampled traces without keeping them", async () => {
    const exporter = recordingExporter();
    const processor = new TraceBatchProcessor(exporter as never);
    for (let i = 0; i < 100; i++) span(processor, i.toString(16).padStart(32, "a"), "unsampled", false).end();
    await processor.forceFlush();
    expect(exporter.batches).toEqual([]);
    expect(processor.pendingTraces).toBe(0);
  });

  it("on a flush of one trace, sends what ended; a span ending later goes on its own", async () => {
    const exporter = recordingExporter();
    const processor = new TraceBatchProcessor(exporter as never);
    const done = span(processor, T1, "done");
    const late = span(processor, T1, "late");
    done.end();
    await processor.forceFlush(T1);
    expect(exporter.batches).toEqual([["done"]]);
    expect(processor.pendingTraces).toBe(0);
    late.end();
    await processor.forceFlush(T1);
    expect(exporter.batches).toEqual([["done"], ["late"]]);
  });

  it("settles its flush when the collector refuses", async () => {
    const exporter = recordingExporter(true);
    const processor = new TraceBatchProcessor(exporter as never);
    span(processor, T1, "lost").end();
    await expect(processor.forceFlush(T1)).resolves.toBeUndefined();
    expect(exporter.batches).toEqual([["lost"]]);
  });
});
