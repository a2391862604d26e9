/**
 * The standard OpenTelemetry exporter variables (`OTEL_EXPORTER_OTLP_*`), read the same way by
 * the edge and the runner. Plain functions over strings: no Node or Worker APIs.
 * @module
 */

/**
 * The endpoint of an OTLP/HTTP exporter as the specification builds it: the traces endpoint
 * as given, or the base endpoint with `/v1/traces` appended. Null when neither is set.
 */
export function otlpTracesUrl(base: string | undefined, traces: string | undefined): string | null {
  if (traces?.trim()) return traces.trim();
  if (!base?.trim()) return null;
  return base.trim().replace(/\/+$/, "") + "/v1/traces";
}

/** `key=value,key2=value2`, values percent-decoded (the OTLP exporter variables' format). */
export function parseOtlpHeaders(text: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (text ?? "").split(",")) {
    const at = pair.indexOf("=");
    if (at <= 0) continue;
    headers[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return headers;
}
