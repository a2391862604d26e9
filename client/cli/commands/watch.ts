/**
 * `codeforge watch <task-id>`: the task's output live, then its summary; exits with the
 * task's outcome. Also what `submit --follow` does after submitting.
 * @module
 */
import type { Task } from "#api/task.js";
import type { ApiClient } from "../../api-client.js";
import { followTask } from "../../follow-task.js";
import { renderEvent } from "../../render-event.js";
import { intFlag, parseFlags, positionals, type Command, type FlagSpecs } from "../command.js";
import { exitCodeFor } from "../exit-codes.js";
import { taskSummary, type Output } from "../output.js";

/** Prints the stream until the task ends (events as JSON lines with `json`), then its summary. */
export async function followAndPrint(client: ApiClient, taskId: string, out: Output, options: { since?: number; json?: boolean } = {}): Promise<Task> {
  for await (const event of followTask(client, taskId, { since: options.since ?? 0 })) {
    const line = options.json ? JSON.stringify(event) : renderEvent(event, { color: out.color });
    if (line !== null) out.line(line);
  }
  const task = await client.getTask(taskId);
  if (!options.json) {
    out.line("");
    for (const line of taskSummary(task)) out.line(line);
  }
  return task;
}

export async function watch(client: ApiClient, args: { taskId: string; since: number; json?: boolean }, out: Output): Promise<number> {
  const task = await followAndPrint(client, args.taskId, out, { since: args.since, json: args.json });
  return exitCodeFor(task.status);
}

const watchFlags = {
  since: { type: "string", default: "0", value: "<seq>", description: "Start after this sequence number" },
} as const satisfies FlagSpecs;

export const watchCommand: Command = {
  name: "watch",
  summary: "follow a task's output live until it ends",
  description: "Prints the task's summary at the end and exits with its outcome.",
  usage: ["watch <task-id> [flags]"],
  args: ["task-id"],
  flags: watchFlags,
  examples: ["codeforge watch tsk_01J9Z8Q4"],
  async run(argv, ctx) {
    const { values, positionals: given } = parseFlags(argv, watchFlags);
    const [taskId] = positionals("watch", given, ["task-id"]);
    return watch(ctx.client(), { taskId: taskId!, since: intFlag("since", values.since)!, json: values.json }, ctx.out);
  },
};
