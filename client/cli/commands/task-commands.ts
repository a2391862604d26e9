/**
 * The one-shot task commands: `status`, `logs` and `cancel`.
 * @module
 */
import type { StreamEvent } from "#api/stream-events.js";
import type { ApiClient } from "../../api-client.js";
import { renderEvent } from "../../render-event.js";
import { intFlag, parseFlags, positionals, type Command } from "../command.js";
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
  usage: ["status <task-id>                            summary (exits with the task's outcome)"],
  async run(argv, ctx) {
    const { values, positionals: given } = parseFlags(argv, {});
    const [taskId] = positionals("status", given, ["task-id"]);
    return status(ctx.client(), { taskId: taskId!, json: values.json }, ctx.out);
  },
};

export const logsCommand: Command = {
  name: "logs",
  usage: ["logs <task-id> [--since <seq>]              the event log so far (--json: one event per line)"],
  async run(argv, ctx) {
    const { values, positionals: given } = parseFlags(argv, { since: { type: "string", default: "0" } });
    const [taskId] = positionals("logs", given, ["task-id"]);
    return logs(ctx.client(), { taskId: taskId!, since: intFlag("since", values.since)!, json: values.json }, ctx.out);
  },
};

export const cancelCommand: Command = {
  name: "cancel",
  usage: ["cancel <task-id>"],
  async run(argv, ctx) {
    const { values, positionals: given } = parseFlags(argv, {});
    const [taskId] = positionals("cancel", given, ["task-id"]);
    return cancel(ctx.client(), { taskId: taskId!, json: values.json }, ctx.out);
  },
};
