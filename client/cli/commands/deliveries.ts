/**
 * `codeforge deliveries`: a task's webhook deliveries with their attempts, and replaying one.
 * @module
 */
import type { Delivery } from "#api/webhooks.js";
import { parseFlags, positionals, type Command } from "../command.js";
import { renderTable, shortTime, type Column } from "../table.js";

/** The last attempt, as a person reads it: the HTTP status, or why none came. */
function lastAttempt(d: Delivery): string {
  const last = d.attempts.at(-1);
  if (!last) return "-";
  if (last.outcome === null) return "in flight";
  return last.status !== null ? `HTTP ${last.status}` : (last.error ?? "-");
}

const COLUMNS: Column<Delivery>[] = [
  { header: "ID", cell: (d) => d.id },
  { header: "EVENT", cell: (d) => d.event_type },
  { header: "STATUS", cell: (d) => d.status },
  { header: "ATTEMPTS", cell: (d) => String(d.attempts.length) },
  { header: "LAST", cell: lastAttempt, maxWidth: 40 },
  { header: "NEXT (UTC)", cell: (d) => shortTime(d.next_attempt_at) },
  { header: "URL", cell: (d) => d.url, maxWidth: 60 },
];

export const deliveriesCommand: Command = {
  name: "deliveries",
  summary: "list a task's webhook deliveries, or send one again",
  usage: ["deliveries <task-id> [flags]", "deliveries redeliver <task-id> <delivery-id>"],
  flags: {},
  defaultSubcommand: "list",
  subcommands: [
    {
      name: "list",
      summary: "the task's webhook deliveries and their attempts (the default)",
      usage: ["deliveries [list] <task-id> [flags]"],
      args: ["task-id"],
      flags: {},
      examples: ["codeforge deliveries tsk_01J9Z8Q4"],
      async run(argv, ctx) {
        const { values, positionals: given } = parseFlags(argv, {});
        const [taskId] = positionals("deliveries", given, ["task-id"]);
        const list = await ctx.client().deliveries(taskId!);
        if (values.json) ctx.out.line(JSON.stringify(list, null, 2));
        else if (list.deliveries.length === 0) ctx.out.line(`no webhook deliveries for ${taskId} (it has no callback_url, or nothing was sent yet)`);
        else for (const line of renderTable(list.deliveries, COLUMNS)) ctx.out.line(line);
        return 0;
      },
    },
    {
      name: "redeliver",
      summary: "send a delivery again (same webhook-id and body)",
      usage: ["deliveries redeliver <task-id> <delivery-id>"],
      args: ["task-id", "delivery-id"],
      flags: {},
      examples: ["codeforge deliveries redeliver tsk_01J9Z8Q4 dlv_01J9Z8R2"],
      async run(argv, ctx) {
        const { values, positionals: given } = parseFlags(argv, {});
        const [taskId, deliveryId] = positionals("deliveries redeliver", given, ["task-id", "delivery-id"]);
        const delivery = await ctx.client().redeliver(taskId!, deliveryId!);
        if (values.json) ctx.out.line(JSON.stringify(delivery, null, 2));
        else ctx.out.line(`${delivery.id} queued for redelivery to ${delivery.url} (attempt series ${delivery.series})`);
        return 0;
      },
    },
  ],
};
