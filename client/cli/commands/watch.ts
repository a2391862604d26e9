/**
 * `codeforge watch <task-id>`: the task's output live, then its summary; exits with the
 * task's outcome. Also what `submit --follow` and `followup --follow` do after submitting.
 * While the task is queued it shows why (see queue-progress.ts).
 * @module
 */
import type { StreamEvent } from "#api/stream-events.js";
import type { Task } from "#api/task.js";
import type { ApiClient } from "../../api-client.js";
import { followTask } from "../../follow-task.js";
import { renderEvent, stampLines } from "../../render-event.js";
import { intFlag, parseFlags, positionals, type Command, type FlagSpecs } from "../command.js";
import { exitCodeFor } from "../exit-codes.js";
import { taskSummary, type Output } from "../output.js";
import { queueProgress, realTicker, type QueueProgress, type Ticker } from "../queue-progress.js";

export interface FollowPrintOptions {
  since?: number;
  json?: boolean;
  /** Prefix each event line with its time (HH:MM:SS, UTC). */
  timestamps?: boolean;
  ticker?: Ticker;
  /** How often the task is read while it is queued, for its waiting reason. */
  waitingPollMs?: number;
}

/** Prints the stream until the task ends (events as JSON lines with `json`), then its summary. */
export async function followAndPrint(client: ApiClient, taskId: string, out: Output, options: FollowPrintOptions = {}): Promise<Task> {
  const ticker = options.ticker ?? realTicker;
  const progress = queueProgress(out, { json: options.json === true, ticker });
  // With --json the waiting reason is not shown (the task's JSON has it): the task is not read for it.
  const waiting = options.json ? null : watchWaiting(client, taskId, progress, ticker, options.waitingPollMs ?? 2_000);
  try {
    waiting?.check();
    for await (const event of followTask(client, taskId, { since: options.since ?? 0 })) {
      if (event.type === "status") waiting?.status(event);
      const line = options.json ? JSON.stringify(event) : renderEvent(event, { color: out.color });
      if (line !== null) progress.line(options.timestamps && !options.json ? stampLines(line, event.ts, out.color) : line);
    }
  } finally {
    waiting?.stop();
  }
  const task = await client.getTask(taskId);
  if (!options.json) {
    out.line("");
    for (const line of taskSummary(task)) out.line(line);
  }
  return task;
}

/**
 * Reads the task while it is queued (the stream does not carry `waiting_reason`) and hands
 * what it learns to `progress`. A reading older than the latest status event is dropped.
 */
function watchWaiting(client: ApiClient, taskId: string, progress: QueueProgress, ticker: Ticker, pollMs: number) {
  let queued: { since: number; reason: string | null } | null = null;
  let stopPolling: (() => void) | null = null;
  let generation = 0;
  const show = () => {
    if (queued) progress.queued(queued.since, queued.reason);
    stopPolling ??= ticker.every(pollMs, () => void read());
  };
  const read = async () => {
    const asked = generation;
    try {
      const task = await client.getTask(taskId);
      if (asked !== generation || task.status !== "queued") return; // a status event came since
      queued = { since: queued?.since ?? ticker.now(), reason: task.waiting_reason };
      show();
    } catch {
      // Only the waiting reason is missed: the stream carries on, and the next reading retries.
    }
  };
  const leave = () => {
    generation++;
    stopPolling?.();
    stopPolling = null;
    queued = null;
    progress.done();
  };
  return {
    /** Reads the task once: a queued task shows its reason without waiting for its event. */
    check: () => void read(),
    status(event: Extract<StreamEvent, { type: "status" }>) {
      if (event.status !== "queued") return leave();
      generation++;
      // Time waited counts from when the edge queued it (never from the future, if clocks differ).
      const now = ticker.now();
      queued = { since: Math.min(Date.parse(event.ts) || now, now), reason: queued?.reason ?? null };
      show();
      void read();
    },
    stop: leave,
  };
}

export async function watch(client: ApiClient, args: { taskId: string; since: number; json?: boolean; timestamps?: boolean }, out: Output): Promise<number> {
  const task = await followAndPrint(client, args.taskId, out, { since: args.since, json: args.json, timestamps: args.timestamps });
  return exitCodeFor(task.status);
}

/** `--timestamps`, shared by the commands that print events. */
export const TIMESTAMPS_FLAG = {
  type: "boolean",
  default: false,
  description: "Prefix each event line with its time (HH:MM:SS, UTC)",
} as const satisfies FlagSpecs[string];

const watchFlags = {
  since: { type: "string", default: "0", value: "<seq>", description: "Start after this sequence number" },
  timestamps: TIMESTAMPS_FLAG,
} as const satisfies FlagSpecs;

export const watchCommand: Command = {
  name: "watch",
  summary: "follow a task's output live until it ends",
  description:
    "Prints the task's summary at the end and exits with its outcome. While the task is queued it says why no runner has taken it (on a terminal, a spinner on stderr; piped, one line on stderr per reason).",
  usage: ["watch <task-id> [flags]"],
  args: ["task-id"],
  flags: watchFlags,
  examples: ["codeforge watch tsk_01J9Z8Q4", "codeforge watch tsk_01J9Z8Q4 --timestamps", "codeforge watch tsk_01J9Z8Q4 --json | jq -r .type"],
  async run(argv, ctx) {
    const { values, positionals: given } = parseFlags(argv, watchFlags);
    const [taskId] = positionals("watch", given, ["task-id"]);
    return watch(ctx.client(), { taskId: taskId!, since: intFlag("since", values.since)!, json: values.json, timestamps: values.timestamps }, ctx.out);
  },
};
