/**
 * Why a queued task is still waiting, told from the runners its pool has seen.
 *
 * A task for a CLI no runner has is accepted (a runner with it may come), but a client looking
 * at a task that stays queued deserves to know that nothing can run it, rather than guess.
 * Pure: the Dispatcher hands in its runner list.
 * @module
 */
import type { RunnerInfo } from "#api/runner-protocol.js";

/** The part of a task that decides which runners can run it. */
export interface WaitingTask {
  pool: string;
  cli: string;
  labels: readonly string[];
}

/**
 * A sentence saying why no runner has taken `task`, or null when a capable runner has room
 * (the task is about to be leased, or waits behind others).
 */
export function waitingReason(task: WaitingTask, runners: readonly RunnerInfo[]): string | null {
  const pool = `pool ${task.pool}`;
  if (runners.length === 0) return `no runner is connected to ${pool}`;
  const withCli = runners.filter((r) => r.clis.includes(task.cli));
  if (withCli.length === 0) return `no runner in ${pool} offers cli ${task.cli}`;
  const capable = withCli.filter((r) => task.labels.every((label) => r.labels.includes(label)));
  if (capable.length === 0) {
    return `no runner in ${pool} offering cli ${task.cli} has all the labels ${task.labels.join(", ")}`;
  }
  if (capable.every((r) => r.running >= r.capacity)) {
    const n = capable.length;
    return `${n === 1 ? "the one runner" : `all ${n} runners`} in ${pool} able to run it ${n === 1 ? "is" : "are"} busy`;
  }
  return null;
}
