/**
 * The one-shot task commands: `status`, `logs` and `cancel`.
 * @module
 */
import type { StreamEvent } from "#api/stream-events.js";
import type { ApiClient } from "../../api-client.js";
import { renderEvent } from "../../render-event.js";
import { intFlag, parseFlags, positionals, type Command, type FlagSpecs } from "../command.js";
import { exitCodeFor } from "../exit-codes.js";
import { taskSummary, type Output } from "../output.js";

/** `codeforge status <id> [--json]`: exits with the task's outcome once it has one. */
export async function status(client: ApiClient, args: { taskId: string; json: boolean }, out: Output): Promise<number> {
  const task = await client.getTask(args.taskId);
  if (args.json) out.line(JSON.stringify(task, null, 2));
  else for (const line of taskSummary(task)) out.line(line);
  return exitCodeFor(task.status);
}

/** `codeforge logs <id> [--since N] [--json]`: the event log so far, page by page. */
export async function logs(client: ApiClient, args: { taskId: string; since: number; json: boolean }, out: Output): Promise<number> {
  let since = args.since;
  for (;;) {
    const page = await client.events(args.taskId, { since, limit: 1_000 });
    for (const event of page.events as StreamEvent[]) {
      const line = args.json ? JSON.stringify(event) : renderEvent(event, { color: out.color });
      if (line !== null) out.line(line);
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
  description: "Exits with the task's outcome once it has one (see the exit codes in codeforge --help).",
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
} as const satisfies FlagSpecs;

export const logsCommand: Command = {
  name: "logs",
  summary: "print a task's event log so far",
  description: "With --json, one event per line.",
  usage: ["logs <task-id> [flags]"],
  args: ["task-id"],
  flags: logsFlags,
  examples: ["codeforge logs tsk_01J9Z8Q4", "codeforge logs tsk_01J9Z8Q4 --since 120 --json"],
  async run(argv, ctx) {
    const { values, positionals: given } = parseFlags(argv, logsFlags);
    const [taskId] = positionals("logs", given, ["task-id"]);
    return logs(ctx.client(), { taskId: taskId!, since: intFlag("since", values.since)!, json: values.json }, ctx.out);
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
