/**
 * The task as its client sees it (`task-view.ts`), with why it waits when it is queued: as its
 * dispatcher answered the enqueue just now, else asked of the dispatcher.
 * @module
 */
import type { Task } from "#api/task.js";
import type { Enqueued } from "../dispatcher/dispatcher.js";
import { lastSeq } from "./event-log.js";
import { listIterations } from "./iteration-store.js";
import type { TaskHost } from "./task-host.js";
import type { TaskRecord } from "./task-store.js";
import { toTaskView } from "./task-view.js";

export async function presentTask(host: TaskHost, task: TaskRecord, enqueued: Enqueued | null = null): Promise<Task> {
  let waitingReason: string | null = enqueued?.waitingReason ?? null;
  if (task.state.status === "queued" && enqueued === null) {
    try {
      waitingReason = await host.dispatcher(task).waitingReason({ pool: task.spec.pool, cli: task.spec.cli, labels: task.spec.labels });
    } catch (err) {
      // The reason is a courtesy: a task is still shown when its dispatcher cannot be asked.
      host.log(task).warn("waiting reason unavailable", { error: String(err) });
    }
  }
  return toTaskView(task, lastSeq(host.sql), listIterations(host.sql), waitingReason);
}
