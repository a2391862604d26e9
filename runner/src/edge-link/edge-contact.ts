/**
 * Watches the runner's calls to the edge: when one last succeeded (readiness: a runner that
 * cannot reach its edge is not ready, see `readiness.ts`), and how many lease requests and
 * heartbeats failed (metrics). It wraps the client, so the lease loop, heartbeats and reports
 * stay unaware of it.
 *
 * An aborted call (the runner shutting down, a heartbeat stopped with its task) is neither a
 * success nor an error.
 * @module
 */
import type { EdgeClient } from "./edge-client.js";
import type { RunnerMetrics } from "../telemetry/runner-metrics.js";

export interface EdgeContact {
  client: EdgeClient;
  /** When a call to the edge last succeeded (ms since the epoch); null before the first. */
  lastContactAt(): number | null;
}

export interface EdgeContactOptions {
  metrics?: Pick<RunnerMetrics, "leaseError" | "heartbeatError">;
  now?: () => number;
}

const aborted = (err: unknown, signal?: AbortSignal) => signal?.aborted === true || (err instanceof Error && err.name === "AbortError");

/**
 * @example
 * const contact = watchEdgeContact(createEdgeClient(...), { metrics });
 * createLeaseLoop({ client: contact.client, ... });
 * readiness: contact.lastContactAt()
 */
export function watchEdgeContact(client: EdgeClient, options: EdgeContactOptions = {}): EdgeContact {
  const now = options.now ?? Date.now;
  let last: number | null = null;
  function observe<A extends unknown[], R>(call: (...args: A) => Promise<R>, signalAt: number, onError?: () => void) {
    return async (...args: A): Promise<R> => {
      try {
        const value = await call(...args);
        last = now();
        return value;
      } catch (err) {
        if (!aborted(err, args[signalAt] as AbortSignal | undefined)) onError?.();
        throw err;
      }
    };
  }
  return {
    client: {
      lease: observe(client.lease.bind(client), 1, () => options.metrics?.leaseError()),
      heartbeat: observe(client.heartbeat.bind(client), 2, () => options.metrics?.heartbeatError()),
      postEvents: observe(client.postEvents.bind(client), 2),
      complete: observe(client.complete.bind(client), 2),
      release: observe(client.release.bind(client), 2),
      saveSession: observe(client.saveSession.bind(client), 2),
    },
    lastContactAt: () => last,
  };
}
