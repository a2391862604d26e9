/**
 * `codeforge tasks`: your tasks, newest first (an admin's: everyone's), as a table or JSON,
 * a page at a time or `--all`.
 * @module
 */
import { TASKS_PAGE_MAX } from "#api/limits.js";
import { TaskStatus } from "#api/task.js";
import type { TaskList, TaskSummary } from "#api/task-queries.js";
import { intFlag, parseFlags, type Command, type FlagSpecs } from "../command.js";
import { UsageError } from "../exit-codes.js";
import { renderTable, shortTime, type Column } from "../table.js";

const COLUMNS: Column<TaskSummary>[] = [
  { header: "ID", cell: (t) => t.id },
  { header: "STATUS", cell: (t) => (t.error_code && t.error_code !== t.status ? `${t.status} (${t.error_code})` : t.status) },
  { header: "CLI", cell: (t) => t.cli },
  { header: "CREATED (UTC)", cell: (t) => shortTime(t.created_at) },
  { header: "REPO", cell: (t) => `${t.repo.url}${t.repo.ref ? ` @ ${t.repo.ref}` : ""}`, maxWidth: 48 },
  { header: "PROMPT", cell: (t) => t.prompt_excerpt, maxWidth: 40 },
];

const tasksFlags = {
  status: { type: "string", value: "<status>", description: "Only tasks with this status", choices: TaskStatus.options },
  owner: { type: "string", value: "<key-id>", description: "Only tasks of this key (admin)" },
  limit: { type: "string", value: "<n>", description: `Tasks per page, 1 to ${TASKS_PAGE_MAX} (default 20)` },
  cursor: { type: "string", value: "<cursor>", description: "The page after this cursor, as a previous page printed it" },
  all: { type: "boolean", default: false, description: "Every page" },
} as const satisfies FlagSpecs;

export const tasksCommand: Command = {
  name: "tasks",
  summary: "list your tasks, newest first",
  description: "An admin key lists everyone's.",
  usage: ["tasks [flags]"],
  flags: tasksFlags,
  examples: ["codeforge tasks --status running", "codeforge tasks --all --jq '.tasks[] | select(.status == \"failed\") | .id'"],
  async run(argv, ctx) {
    const { values, positionals } = parseFlags(argv, tasksFlags);
    if (positionals.length) throw new UsageError(`unexpected arguments: ${positionals.join(" ")}`);
    const status = values.status === undefined ? undefined : TaskStatus.safeParse(values.status);
    if (status && !status.success) throw new UsageError(`--status must be one of ${TaskStatus.options.join(", ")}`);
    if (values.all && (values.limit !== undefined || values.cursor !== undefined))
      throw new UsageError("--all reads every page: give it without --limit or --cursor");
    const query = {
      status: status?.data,
      owner: values.owner,
      limit: values.all ? TASKS_PAGE_MAX : (intFlag("limit", values.limit, { min: 1, max: TASKS_PAGE_MAX }) ?? 20),
      cursor: values.cursor,
    };
    const client = ctx.client();
    let page: TaskList = await client.listTasks(query);
    const tasks = [...page.tasks];
    while (values.all && page.next_cursor !== null) {
      page = await client.listTasks({ ...query, cursor: page.next_cursor });
      tasks.push(...page.tasks);
    }
    const list: TaskList = { tasks, next_cursor: page.next_cursor };
    if (values.json) {
      ctx.out.line(JSON.stringify(list, null, 2));
      return 0;
    }
    if (tasks.length === 0) ctx.out.line(`no tasks${status ? ` with status ${status.data}` : ""}${values.cursor ? " after this cursor" : ""}`);
    else for (const line of renderTable(tasks, COLUMNS)) ctx.out.line(line);
    if (list.next_cursor !== null) {
      const filters = [status ? `--status ${status.data}` : "", values.owner ? `--owner ${values.owner}` : "", values.limit ? `--limit ${values.limit}` : ""]
        .filter(Boolean)
        .join(" ");
      ctx.out.line(`more: codeforge tasks ${filters ? `${filters} ` : ""}--cursor ${list.next_cursor}`);
    }
    return 0;
  },
};
