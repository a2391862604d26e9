/**
 * `codeforge watch <task-id>`: the task's output live, then its summary; exits with the
 * task's outcome. Also what `submit --follow` does after submitting.
 * @module
 */
import type { Task } from "../../../api/task.js";
import type { ApiClient } from "../../api-client.js";
import { followTask } from "../../follow-task.js";
import { renderEvent } from "../../render-event.js";
import { exitCodeFor } from "../exit-codes.js";
import { taskSummary, type Output } from "../output.js";

export async function followAndPrint(client: ApiClient, taskId: string, out: Output, since = 0): Promise<Task> {
  for await (const event of followTask(client, taskId, { since })) {
    const line = renderEvent(event, { color: out.color });
    if (line !== null) out.line(line);
  }
  const task = await client.getTask(taskId);
  out.line("");
  for (const line of taskSummary(task)) out.line(line);
  return task;
}

export async function watch(client: ApiClient, args: { taskId: string; since: number }, out: Output): Promise<number> {
  const task = await followAndPrint(client, args.taskId, out, args.since);
  return exitCodeFor(task.status);
}
