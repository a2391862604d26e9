/** Unit: the runner's tracing settings from the standard `OTEL_*` variables. */
import { describe, expect, it } from "vitest";
import { tracingConfigFromEnv } from "../../runner/src/telemetry/tracing-config.js";

describe("runner tracing configuration", () => {
  it("is off without an endpoint, or when the SDK is disabled", () => {
    expect(tracingConfigFromEnv({})).toBeNull();
    expect(tracingConfigFromEnv({ OTEL_TRACES_SAMPLER_ARG: "0.5" })).toBeNull();
    expect(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_SDK_DISABLED: "true" })).toBeNull();
  });

  it("reads endpoint, headers, ratio and service name, with defaults", () => {
    expect(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" })).toEqual({
      url: "http://127.0.0.1:4318/v1/traces",
      headers: {},
      ratio: 1,
      followParent: true,
      serviceName: "codeforge-runner",
    });
    expect(
      tracingConfigFromEnv({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://otel.example.com/v1/traces",
        OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20t0ken,x-a=1",
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-a=2",
        OTEL_TRACES_SAMPLER: "traceidratio",
        OTEL_TRACES_SAMPLER_ARG: "0.1",
        OTEL_SERVICE_NAME: "runner-eu-1",
      }),
    ).toEqual({
      url: "https://otel.example.com/v1/traces",
      headers: { authorization: "Bearer t0ken", "x-a": "2" },
      ratio: 0.1,
      followParent: false,
      serviceName: "runner-eu-1",
    });
  });

  it("refuses a sampler it does not implement, naming the variable", () => {
    expect(() => tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_TRACES_SAMPLER: "jaeger_remote" })).toThrow(
      /OTEL_TRACES_SAMPLER: must be parentbased_traceidratio or traceidratio/,
    );
  });

  it("refuses a ratio outside 0–1, naming the variable", () => {
    for (const bad of ["1.5", "-0.1", "ten"]) {
      expect(() => tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_TRACES_SAMPLER_ARG: bad })).toThrow(
        /OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1/,
      );
    }
  });
});
