/**
 * `codeforge diff <task-id>`: the change a task made, as the patch its result carries —
 * coloured on a terminal, unchanged when piped, so `codeforge diff <id> | git apply` works.
 * `--iteration N` shows an earlier iteration's patch, read from that iteration's `result`
 * event in the task's log (the task view leaves earlier patches out).
 * @module
 */
import type { StreamEvent } from "#api/stream-events.js";
import { PATCH_MAX_BYTES } from "#api/limits.js";
import type { Task } from "#api/task.js";
import type { TaskResult } from "#api/task-result.js";
import type { ApiClient } from "../../api-client.js";
import { colorPatch } from "../color-patch.js";
import { intFlag, parseFlags, positionals, type Command, type FlagSpecs } from "../command.js";
import { EXIT, UsageError } from "../exit-codes.js";
import type { Output } from "../output.js";

export interface DiffArgs {
  taskId: string;
  /** The iteration whose patch to show; absent: the current one. */
  iteration?: number;
  json: boolean;
}

export async function diff(client: ApiClient, args: DiffArgs, out: Output): Promise<number> {
  const task = await client.getTask(args.taskId);
  const n = args.iteration ?? task.iteration;
  if (n > task.iteration) {
    const range = task.iteration === 1 ? "only iteration 1" : `iterations 1 to ${task.iteration}`;
    throw new UsageError(`--iteration ${n}: ${task.id} has ${range}`);
  }
  const result = n === task.iteration ? task.result : await earlierResult(client, task, n);
  if (!result) {
    out.error(`codeforge: ${noResult(task, n)}`);
    return EXIT.noResult;
  }
  if (args.json) {
    const { patch, patch_truncated, patch_masked, diff_stat, changed_files } = result;
    out.line(JSON.stringify({ task_id: task.id, iteration: n, patch, patch_truncated, patch_masked, diff_stat, changed_files }, null, 2));
    return EXIT.ok;
  }
  if (result.patch === "") {
    out.error(`${task.id}${n === task.iteration ? "" : ` iteration ${n}`} made no changes`);
    return EXIT.ok;
  }
  if (result.patch_truncated)
    out.error(
      `codeforge: the patch is TRUNCATED at ${PATCH_MAX_BYTES} bytes: it is not the whole change${result.push ? `; the pushed commit ${result.push.commit_sha} has all of it` : ""}`,
    );
  if (result.patch_masked) out.error("codeforge: the patch is MASKED: it held a secret of the task, so it does not match the files");
  const text = colorPatch(result.patch, out.color);
  if (out.raw) out.raw(text, "stdout");
  else out.line(text.replace(/\n$/, ""));
  return EXIT.ok;
}

/** Why there is no patch to show. */
function noResult(task: Task, n: number): string {
  const it = task.iterations.find((i) => i.n === n);
  const status = it?.status ?? task.status;
  const error = it?.error ?? task.error;
  const which = n === task.iteration ? task.id : `${task.id} iteration ${n}`;
  if (status === "queued" || status === "leased" || status === "running")
    return `${which} has no result yet: it is ${status} (codeforge watch ${task.id} follows it)`;
  return `${which} has no result: it ended ${status}${error ? ` (${error.code}: ${error.message})` : ""}`;
}

/**
 * Iteration `n`'s whole result, from its `result` event: the log from the iteration's first
 * event on, until an event of a later iteration. Null when it has none.
 */
async function earlierResult(client: ApiClient, task: Task, n: number): Promise<TaskResult | null> {
  const it = task.iterations.find((i) => i.n === n);
  if (!it?.result) return null;
  let since = it.first_seq - 1;
  let found: TaskResult | null = null;
  for (;;) {
    const page = await client.events(task.id, { since, limit: 1_000 });
    for (const event of page.events as StreamEvent[]) {
      if (event.iteration > n) return found;
      if (event.iteration === n && event.type === "result") found = event.result;
    }
    if (!page.has_more) return found;
    since = page.next_since;
  }
}

const diffFlags = {
  iteration: { type: "string", value: "<n>", description: "An earlier iteration's patch (1 for the task as created; default: the latest)" },
} as const satisfies FlagSpecs;

export const diffCommand: Command = {
  name: "diff",
  summary: "print the patch a task made",
  description:
    "Coloured on a terminal, unchanged when piped (so it applies with git apply). Each iteration's patch holds every change so far, against the commit the task started from. Exits 7 when the task has no result yet; says on stderr when it made no changes, or when the patch was truncated.",
  usage: ["diff <task-id> [flags]"],
  args: ["task-id"],
  flags: diffFlags,
  examples: [
    "codeforge diff tsk_01J9Z8Q4",
    "# apply the change to your checkout",
    "codeforge diff tsk_01J9Z8Q4 | git apply",
    "codeforge diff tsk_01J9Z8Q4 --iteration 1",
    "codeforge diff tsk_01J9Z8Q4 --jq .diff_stat",
  ],
  async run(argv, ctx) {
    const { values, positionals: given } = parseFlags(argv, diffFlags);
    const [taskId] = positionals("diff", given, ["task-id"]);
    return diff(ctx.client(), { taskId: taskId!, iteration: intFlag("iteration", values.iteration, { min: 1 }), json: values.json }, ctx.out);
  },
};
