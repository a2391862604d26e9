/**
 * Keeps one attempt's lease alive and listens for cancellation.
 *
 * A heartbeat goes out every `heartbeat_interval_ms` from the lease, and at once when the
 * phase changes to `running` (that one moves the task from leased to running at the edge).
 * At most one is in flight. An ack with `cancel_requested` calls `onCancel`; a stale lease
 * calls `onLeaseLost` and ends the loop, since the edge will refuse everything from this
 * attempt from now on. Other failures are logged and retried at the next beat: the lease
 * outlives several intervals, so one lost heartbeat is harmless.
 * @module
 */
import type { Logger } from "pino";
import type { Heartbeat } from "#api/index.js";
import { classifyEdgeError, describeEdgeError } from "./edge-error.js";
import type { EdgeClient } from "./edge-client.js";

export interface HeartbeatOptions {
  client: Pick<EdgeClient, "heartbeat">;
  taskId: string;
  leaseId: string;
  intervalMs: number;
  logger: Logger;
  onCancel: () => void;
  onLeaseLost: () => void;
}

export interface HeartbeatLoop {
  /** Switches phase; a change to `running` is reported immediately. */
  setPhase(phase: Heartbeat["phase"]): void;
  /** Ends the loop; resolves once no heartbeat is in flight. */
  stop(): Promise<void>;
}

/**
 * Starts beating in phase `preparing` (the first beat after one interval).
 * @example
 * const heartbeat = startHeartbeat({ client, taskId, leaseId, intervalMs, logger, onCancel, onLeaseLost });
 * heartbeat.setPhase("running");
 */
export function startHeartbeat(options: HeartbeatOptions): HeartbeatLoop {
  const { client, taskId, leaseId, intervalMs, logger } = options;
  let phase: Heartbeat["phase"] = "preparing";
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | null = null;
  let beatAgain = false;
  const aborter = new AbortController();

  function schedule(delayMs: number) {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(beat, delayMs);
  }

  function beat() {
    if (stopped) return;
    if (inFlight) {
      beatAgain = true;
      return;
    }
    inFlight = (async () => {
      try {
        const ack = await client.heartbeat(taskId, { lease_id: leaseId, phase }, aborter.signal);
        if (ack.cancel_requested && !stopped) options.onCancel();
      } catch (err) {
        if (stopped) return;
        const kind = classifyEdgeError(err);
        if (kind === "lease_stale") {
          // Never sampled: the attempt ends here.
          logger.error("lease is stale: the edge no longer accepts this attempt");
          stopped = true;
          options.onLeaseLost();
          return;
        }
        logger.warn({ err: describeEdgeError(err) }, "heartbeat failed");
      } finally {
        inFlight = null;
      }
      if (beatAgain) {
        beatAgain = false;
        beat();
      } else {
        schedule(intervalMs);
      }
    })();
  }

  schedule(intervalMs);

  return {
    setPhase(next) {
      if (next === phase) return;
      phase = next;
      clearTimeout(timer);
      beat();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      aborter.abort();
      await inFlight;
    },
  };
}
