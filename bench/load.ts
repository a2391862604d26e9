/**
 * A closed-loop HTTP load generator: `connections` loops, each sending its next request as soon
 * as the previous one answered, for `durationMs`. Node's own `http` with keep-alive, so the
 * generator costs as little CPU as it can on a machine it shares with the server.
 * @module
 */
import http from "node:http";
import { summarize, type Summary } from "./stats.js";

export interface LoadOptions {
  url: string;
  method: "GET" | "POST";
  headers?: Record<string, string>;
  /** A fresh path per request (e.g. a new id each time); `url`'s path otherwise. */
  path?: () => string;
  /** A fresh body per request (e.g. to vary a prompt); omitted for GET. */
  body?: () => string;
  connections: number;
  durationMs: number;
  /** Stop after this many requests were sent, if that comes before `durationMs`. */
  maxRequests?: number;
  /** Status every answer must have; others are counted as errors. */
  expectStatus: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  requestsPerSecond: number;
  latency: Summary;
  /** Every request's latency (ms), to pool several runs into one summary. */
  samples: number[];
  elapsedMs: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const url = new URL(options.url);
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  const started = performance.now();
  const deadline = started + options.durationMs;

  const once = () =>
    new Promise<number>((resolve) => {
      const body = options.body?.();
      const t0 = performance.now();
      const req = http.request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: options.path?.() ?? url.pathname + url.search,
          method: options.method,
          headers: { ...options.headers, ...(body ? { "content-length": Buffer.byteLength(body) } : {}) },
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            latencies.push(performance.now() - t0);
            resolve(res.statusCode ?? 0);
          });
        },
      );
      req.on("error", () => resolve(0));
      req.end(body);
    });

  await Promise.all(
    Array.from({ length: options.connections }, async () => {
      while (performance.now() < deadline && sent < (options.maxRequests ?? Number.POSITIVE_INFINITY)) {
        sent++;
        if ((await once()) !== options.expectStatus) errors++;
      }
    }),
  );
  const elapsedS = (performance.now() - started) / 1000;
  agent.destroy();
  return {
    requests: latencies.length,
    errors,
    requestsPerSecond: latencies.length / elapsedS,
    latency: summarize(latencies),
    samples: latencies,
    elapsedMs: elapsedS * 1000,
  };
}
