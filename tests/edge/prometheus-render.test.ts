/**
 * Unit: observations added up in a sample set and rendered as the exposition format — every
 * bucket written, cumulative, `+Inf` equal to the count; label values escaped; read back by
 * the strict parser.
 */
import { describe, expect, it } from "vitest";
import { HTTP_DURATION_BUCKETS_SECONDS } from "#api/metrics.js";
import { renderPrometheus } from "../../edge/src/metrics/prometheus-text.js";
import { SampleSet } from "../../edge/src/metrics/samples.js";
import { parseExposition, metricValue } from "./prometheus-text.js";

describe("Prometheus rendering", () => {
  it("renders observed histograms with cumulative buckets and escapes label values", () => {
    const set = new SampleSet();
    const labels = { method: "GET", path: '/odd"path\\with\nnewline' };
    for (const seconds of [0.003, 0.2, 0.2, 40]) {
      set.observe({ name: "codeforge_http_request_duration_seconds", labels, value: seconds, buckets: HTTP_DURATION_BUCKETS_SECONDS });
    }
    set.add([{ name: "codeforge_http_requests_total", labels: { ...labels, status: "200" }, value: 4 }]);
    const text = renderPrometheus(set.drain());
    expect(set.size).toBe(0);
    expect(text).toContain('path="/odd\\"path\\\\with\\nnewline"');

    const parsed = parseExposition(text);
    const bucket = (le: string) => metricValue(parsed, "codeforge_http_request_duration_seconds_bucket", { le, method: "GET" });
    expect(bucket("0.005")).toBe(1);
    expect(bucket("0.1")).toBe(1);
    expect(bucket("0.25")).toBe(3);
    expect(bucket("30")).toBe(3);
    expect(bucket("+Inf")).toBe(4);
    expect(metricValue(parsed, "codeforge_http_request_duration_seconds_count", { method: "GET" })).toBe(4);
    expect(metricValue(parsed, "codeforge_http_request_duration_seconds_sum", { method: "GET" })).toBeCloseTo(40.403);
    expect(parsed.samples.find((s) => s.name === "codeforge_http_requests_total")!.labels.path).toBe(labels.path);
    const buckets = parsed.samples.filter((s) => s.name.endsWith("_bucket"));
    expect(buckets).toHaveLength(HTTP_DURATION_BUCKETS_SECONDS.length + 1);
  });
});
