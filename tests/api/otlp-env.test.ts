/** Unit: the standard OTLP exporter variables, read the same way by the edge and the runner. */
import { describe, expect, it } from "vitest";
import { otlpTracesUrl, parseOtlpHeaders } from "#api/otlp-env.js";

describe("OTEL_EXPORTER_OTLP_* variables", () => {
  it("appends /v1/traces to the base endpoint; takes the traces endpoint as given; none: off", () => {
    expect(otlpTracesUrl("http://127.0.0.1:4318", undefined)).toBe("http://127.0.0.1:4318/v1/traces");
    expect(otlpTracesUrl("https://otel.example.com/otlp/", undefined)).toBe("https://otel.example.com/otlp/v1/traces");
    expect(otlpTracesUrl("http://a:4318", "https://traces.example.com/custom")).toBe("https://traces.example.com/custom");
    expect(otlpTracesUrl(undefined, undefined)).toBeNull();
    expect(otlpTracesUrl("  ", "")).toBeNull();
  });

  it("reads key=value pairs, percent-decoded, skipping empty and nameless parts", () => {
    expect(parseOtlpHeaders("x-api-key=abc%3D%3D, x-team = core ,,=orphan,broken")).toEqual({ "x-api-key": "abc==", "x-team": "core" });
    expect(parseOtlpHeaders(undefined)).toEqual({});
  });
});
