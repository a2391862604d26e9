/**
 * A local OTLP/HTTP trace receiver for tests and benchmarks: a `node:http` server on 127.0.0.1
 * that takes `POST /v1/traces` in the OTLP JSON encoding (what both the edge's
 * `@microlabs/otel-cf-workers` exporter and the runner's `@opentelemetry/exporter-trace-otlp-http`
 * send) and keeps every span it was sent, flattened, with the service that sent it.
 * @module
 */
import { createServer, type Server } from "node:http";
import { once } from "node:events";

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  links: { traceId: string; spanId: string; attributes: Record<string, unknown> }[];
  startMs: number;
  endMs: number;
}

export interface OtlpReceiver {
  /** The base endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`); traces go to `${url}/v1/traces`. */
  url: string;
  spans(): ReceivedSpan[];
  /** Export requests received (a count of POSTs, whatever they held). */
  requests(): number;
  /** Resolves once `predicate` holds for the spans received, or rejects after `timeoutMs`. */
  waitFor(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

interface KeyValue {
  key: string;
  value: Record<string, unknown>;
}

function attributeMap(list: KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) out[key] = Object.values(value)[0];
  return out;
}

const nanosToMs = (value: unknown) => Number(BigInt(String(value ?? 0)) / 1_000_000n);

/** Flattens one OTLP JSON `ExportTraceServiceRequest`. */
export function flattenExport(body: unknown): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  const resourceSpans = (body as { resourceSpans?: unknown[] }).resourceSpans ?? [];
  for (const rs of resourceSpans as { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[]) {
    const service = String(attributeMap(rs.resource?.attributes)["service.name"] ?? "");
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          service,
          traceId: String(s.traceId),
          spanId: String(s.spanId),
          parentSpanId: String(s.parentSpanId ?? ""),
          name: String(s.name),
          kind: Number(s.kind ?? 0),
          attributes: attributeMap(s.attributes as KeyValue[]),
          links: ((s.links as { traceId: string; spanId: string; attributes?: KeyValue[] }[] | undefined) ?? []).map((l) => ({
            traceId: l.traceId,
            spanId: l.spanId,
            attributes: attributeMap(l.attributes),
          })),
          startMs: nanosToMs(s.startTimeUnixNano),
          endMs: nanosToMs(s.endTimeUnixNano),
        });
      }
    }
  }
  return out;
}

/** Starts the receiver on a free loopback port (or `port`). */
export async function startOtlpReceiver(options: { port?: number } = {}): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  let requests = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      requests++;
      if (req.method !== "POST" || req.url !== "/v1/traces") {
        res.writeHead(404).end();
        return;
      }
      const text = Buffer.concat(chunks).toString("utf8");
      if (!(req.headers["content-type"] ?? "").includes("json")) {
        res.writeHead(415, { "content-type": "application/json" }).end('{"error":"only OTLP JSON is understood here"}');
        return;
      }
      try {
        spans.push(...flattenExport(JSON.parse(text)));
      } catch {
        res.writeHead(400).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  server.listen(options.port ?? 0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => [...spans],
    requests: () => requests,
    async waitFor(predicate, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(spans)) {
        if (Date.now() > deadline)
          throw new Error(`spans expected did not arrive within ${timeoutMs} ms; got ${spans.map((s) => `${s.service}:${s.name}`).join(", ") || "none"}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return [...spans];
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}
