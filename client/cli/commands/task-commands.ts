/**
 * The one-shot task commands: `status`, `logs` and `cancel`.
 * @module
 */
import type { StreamEvent } from "#api/stream-events.js";
import type { ApiClient } from "../../api-client.js";
import { rawOutput, renderEvent, stampLines } from "../../render-event.js";
import { intFlag, parseFlags, positionals, type Command, type FlagSpecs } from "../command.js";
import { exitCodeFor, UsageError } from "../exit-codes.js";
import { taskSummary, type Output } from "../output.js";
import { TIMESTAMPS_FLAG } from "./watch.js";

/** `codeforge status <id> [--json]`: exits with the task's outcome once it has one. */
export async function status(client: ApiClient, args: { taskId: string; json: boolean }, out: Output): Promise<number> {
  const task = await client.getTask(args.taskId);
  if (args.json) out.line(JSON.stringify(task, null, 2));
  else for (const line of taskSummary(task)) out.line(line);
  return exitCodeFor(task.status);
}

export interface LogsArgs {
  taskId: string;
  since: number;
  json: boolean;
  /** Only what the CLI wrote, as it wrote it: stdout to stdout, stderr to stderr. */
  raw?: boolean;
  timestamps?: boolean;
}

/** `codeforge logs <id> [--since N] [--json | --raw] [--timestamps]`: the event log so far, page by page. */
export async function logs(client: ApiClient, args: LogsArgs, out: Output): Promise<number> {
  if (args.raw && args.json) throw new UsageError("give --raw or --json, not both");
  if (args.raw && args.timestamps) throw new UsageError("--timestamps prefixes rendered lines: --raw prints the CLI's output unchanged");
  let since = args.since;
  for (;;) {
    const page = await client.events(args.taskId, { since, limit: 1_000 });
    for (const event of page.events as StreamEvent[]) {
      if (args.raw) {
        const raw = rawOutput(event);
        if (raw && out.raw) out.raw(raw.text, raw.stream);
        else if (raw) (raw.stream === "stdout" ? out.line : out.error)(raw.text.replace(/\n$/, ""));
        continue;
      }
      const line = args.json ? JSON.stringify(event) : renderEvent(event, { color: out.color });
      if (line !== null) out.line(args.timestamps && !args.json ? stampLines(line, event.ts, out.color) : line);
    }
    since = page.next_since;
    if (!page.has_more) return 0;
  }
}

/** `codeforge cancel <id>`. */
export async function cancel(client: ApiClient, args: { taskId: string; json: boolean }, out: Output): Promise<number> {
  const task = await client.cancelTask(args.taskId);
  if (args.json) out.line(JSON.stringify(task, null, 2));
  else out.line(task.status === "canceled" ? `${task.id} canceled` : `${task.id}: cancel requested; the runner is stopping the CLI`);
  return 0;
}

export const statusCommand: Command = {
  name: "status",
  summary: "show a task's status and result",
  description:
    "Exits with the task's outcome once it has one (see the exit codes in codeforge --help). A queued task's summary says why no runner has taken it yet.",
  usage: ["status <task-id> [flags]"],
  args: ["task-id"],
  flags: {},
  examples: ["codeforge status tsk_01J9Z8Q4", "codeforge status tsk_01J9Z8Q4 --jq .result.cost_usd"],
  async run(argv, ctx) {
    const { values, positionals: given } = parseFlags(argv, {});
    const [taskId] = positionals("status", given, ["task-id"]);
    return status(ctx.client(), { taskId: taskId!, json: values.json }, ctx.out);
  },
};

const logsFlags = {
  since: { type: "string", default: "0", value: "<seq>", description: "Only events after this sequence number" },
  raw: { type: "boolean", default: false, description: "Only the CLI's own output, unrendered (its stdout to stdout, its stderr to stderr)" },
  timestamps: TIMESTAMPS_FLAG,
} as const satisfies FlagSpecs;

export const logsCommand: Command = {
  name: "logs",
  summary: "print a task's event log so far",
  description: "With --json, one event per line; with --raw, what the CLI printed, exactly (a structured CLI's JSON lines included).",
  usage: ["logs <task-id> [flags]"],
  args: ["task-id"],
  flags: logsFlags,
  examples: [
    "codeforge logs tsk_01J9Z8Q4",
    "codeforge logs tsk_01J9Z8Q4 --since 120 --json",
    "codeforge logs tsk_01J9Z8Q4 --timestamps",
    "# Claude Code's stream-json lines, as it printed them",
    "codeforge logs tsk_01J9Z8Q4 --raw | jq -c 'select(.type == \"assistant\")'",
  ],
  async run(argv, ctx) {
    const { values, positionals: given } = parseFlags(argv, logsFlags);
    const [taskId] = positionals("logs", given, ["task-id"]);
    return logs(
      ctx.client(),
      { taskId: taskId!, since: intFlag("since", values.since)!, json: values.json, raw: values.raw, timestamps: values.timestamps },
      ctx.out,
    );
  },
};

export const cancelCommand: Command = {
  name: "cancel",
  summary: "cancel a queued or running task",
  description: "A queued task ends at once; a running one once its runner has stopped the CLI.",
  usage: ["cancel <task-id> [flags]"],
  args: ["task-id"],
  flags: {},
  examples: ["codeforge cancel tsk_01J9Z8Q4"],
  async run(argv, ctx) {
    const { values, positionals: given } = parseFlags(argv, {});
    const [taskId] = positionals("cancel", given, ["task-id"]);
    return cancel(ctx.client(), { taskId: taskId!, json: values.json }, ctx.out);
  },
};
