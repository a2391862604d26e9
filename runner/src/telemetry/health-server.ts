/**
 * `/healthz` and `/readyz` for orchestrators (Kubernetes probes, Docker health checks), and
 * `/metrics` for Prometheus.
 *
 * Liveness answers 200 while the process serves HTTP at all; readiness answers 200 only while
 * the runner is taking work, so a draining runner (after SIGTERM) reads as not ready.
 * Plain `node:http`: three routes do not need a framework. `/metrics` serves the runner's own
 * prom-client registry in the Prometheus text format.
 * @module
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface HealthServerOptions {
  port: number;
  host: string;
  /** Whether the runner currently accepts work, with a short reason when it does not. */
  readiness: () => { ready: boolean; detail: Record<string, unknown> };
  /** Served at `/metrics`; without it `/metrics` is a 404. */
  metrics?: Registry;
}

export interface HealthServer {
  /** The bound port (useful when started on port 0). */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * @example
 * const health = await startHealthServer({ port: 9464, host: "0.0.0.0", readiness: () => ({ ready: loop.accepting, detail: {} }) });
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, { error: "method not allowed" });
    if (path === "/healthz") return send(res, 200, { status: "ok" });
    if (path === "/metrics" && options.metrics) {
      const registry = options.metrics;
      registry
        .metrics()
        .then((text) => {
          res.writeHead(200, { "content-type": registry.contentType, "cache-control": "no-store" });
          res.end(text);
        })
        .catch((err: unknown) => send(res, 500, { error: `metrics failed: ${err instanceof Error ? err.message : String(err)}` }));
      return;
    }
    if (path === "/readyz") {
      const { ready, detail } = options.readiness();
      return send(res, ready ? 200 : 503, { status: ready ? "ready" : "not_ready", ...detail });
    }
    return send(res, 404, { error: "not found" });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function send(res: http.ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}
