/**
 * Integration (workerd → a real node:http receiver): the edge's OTLP exporter posts spans as OTLP
 * JSON with the configured headers, reports a refusal as a failure, and gives up on a collector
 * that never answers instead of holding the export open. The webhook receiver stands in for the
 * collector: it records what it gets and answers as scripted (status, delay).
 */
import { SpanImpl } from "@microlabs/otel-cf-workers";
import { TraceFlags } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { OtlpJsonExporter } from "../../edge/src/tracing/otlp-json-exporter.js";
import { newHook, received } from "./receiver-client.js";

function endedSpan(name: string): SpanImpl {
  const span = new SpanImpl({
    name,
    attributes: { "codeforge.task_id": "tsk_test" },
    resource: { attributes: { "service.name": "codeforge-edge" } } as never,
    spanContext: { traceId: "3".repeat(32), spanId: "4".repeat(16), traceFlags: TraceFlags.SAMPLED },
    onEnd: () => {},
  });
  span.end();
  return span;
}

function exportTo(url: string, timeoutMs?: number): Promise<{ code: number; error?: Error; ms: number }> {
  const started = Date.now();
  const exporter = new OtlpJsonExporter({ url, headers: { "x-api-key": "collector-key" }, timeoutMs });
  return new Promise((resolve) => exporter.export([endedSpan("TaskObject.create") as never], (result) => resolve({ ...result, ms: Date.now() - started })));
}

describe("OTLP JSON exporter", () => {
  it("posts the spans as OTLP JSON with the configured headers", async () => {
    const hook = await newHook();
    const result = await exportTo(hook.url);
    expect(result.code).toBe(0);
    const [request] = await received(hook.name);
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(request!.headers["x-api-key"]).toBe("collector-key");
    const body = JSON.parse(request!.body);
    const span = body.resourceSpans[0].scopeSpans[0].spans[0];
    expect(span).toMatchObject({ name: "TaskObject.create", traceId: "3".repeat(32), spanId: "4".repeat(16) });
    expect(span.attributes).toContainEqual({ key: "codeforge.task_id", value: { stringValue: "tsk_test" } });
  });

  it("reports a refusal as a failure", async () => {
    const hook = await newHook({ default: { status: 503, body: "overloaded" } });
    const result = await exportTo(hook.url);
    expect(result.code).toBe(1);
    expect(String(result.error)).toContain("503");
  });

  it("gives up on a collector that does not answer within the time limit", async () => {
    const hook = await newHook({ default: { status: 200, delayMs: 5_000 } });
    const result = await exportTo(hook.url, 300);
    expect(result.code).toBe(1);
    expect(result.ms).toBeLessThan(3_000);
  });
});
