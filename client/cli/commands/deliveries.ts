/**
 * `codeforge deliveries`: a task's webhook deliveries with their attempts (each one's time,
 * HTTP status or error, and latency), one delivery in full, and replaying one.
 * @module
 */
import type { Delivery, DeliveryAttempt } from "#api/webhooks.js";
import { CodeForgeError } from "../../api-client.js";
import { parseFlags, positionals, type Command } from "../command.js";
import { renderTable, shortTime, type Column } from "../table.js";

/** An attempt's result, as a person reads it: the HTTP status, or why none came. */
function result(a: DeliveryAttempt): string {
  if (a.outcome === null) return "in flight";
  return a.status !== null ? `HTTP ${a.status}` : (a.error ?? "-");
}

function latency(a: DeliveryAttempt): string {
  return a.latency_ms === null ? "-" : `${a.latency_ms} ms`;
}

/** The last attempt: its result and latency, `HTTP 200, 35 ms`. */
function lastAttempt(d: Delivery): string {
  const last = d.attempts.at(-1);
  if (!last) return "-";
  return last.outcome === null || last.latency_ms === null ? result(last) : `${result(last)}, ${latency(last)}`;
}

const ATTEMPT_COLUMNS: Column<DeliveryAttempt>[] = [
  { header: "ATTEMPT", cell: (a) => `${a.series}.${a.attempt}` },
  { header: "STARTED (UTC)", cell: (a) => shortTime(a.started_at) },
  { header: "RESULT", cell: result, maxWidth: 40 },
  { header: "LATENCY", cell: latency },
  { header: "OUTCOME", cell: (a) => a.outcome ?? "-" },
  // What the receiver answered, else why it did not count when RESULT does not say (a redirect).
  { header: "DETAIL", cell: (a) => a.response_excerpt || (a.status !== null ? a.error : null) || "-", maxWidth: 60 },
];

/** One delivery's fields, aligned, then its attempts as a table. */
function deliveryDetails(d: Delivery): string[] {
  return [
    `delivery    ${d.id}`,
    `task        ${d.task_id} (iteration ${d.iteration})`,
    `event       ${d.event_type}`,
    `url         ${d.url}`,
    `status      ${d.status}${d.completed_at ? ` at ${shortTime(d.completed_at)} UTC` : ""}`,
    `created     ${shortTime(d.created_at)} UTC`,
    `next        ${d.next_attempt_at ? `${shortTime(d.next_attempt_at)} UTC` : "none due"}`,
    `series      ${d.series}${d.series > 1 ? ` (redelivered ${d.series - 1} time(s))` : ""}`,
    "",
    ...(d.attempts.length ? renderTable(d.attempts, ATTEMPT_COLUMNS) : ["no attempts yet"]),
  ];
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
  usage: ["deliveries <task-id> [flags]", "deliveries show <task-id> <delivery-id>", "deliveries redeliver <task-id> <delivery-id>"],
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
      name: "show",
      summary: "one delivery and every attempt: time, HTTP status or error, latency",
      usage: ["deliveries show <task-id> <delivery-id> [flags]"],
      args: ["task-id", "delivery-id"],
      flags: {},
      examples: ["codeforge deliveries show tsk_01J9Z8Q4 msg_01J9Z8R2", "codeforge deliveries show tsk_01J9Z8Q4 msg_01J9Z8R2 --jq '.attempts[].latency_ms'"],
      async run(argv, ctx) {
        const { values, positionals: given } = parseFlags(argv, {});
        const [taskId, deliveryId] = positionals("deliveries show", given, ["task-id", "delivery-id"]);
        const list = await ctx.client().deliveries(taskId!);
        const delivery = list.deliveries.find((d) => d.id === deliveryId);
        if (!delivery)
          throw new CodeForgeError(404, "not_found", `task ${taskId} has no delivery ${deliveryId} (codeforge deliveries ${taskId} lists them)`, null);
        if (values.json) ctx.out.line(JSON.stringify(delivery, null, 2));
        else for (const line of deliveryDetails(delivery)) ctx.out.line(line);
        return 0;
      },
    },
    {
      name: "redeliver",
      summary: "send a delivery again (same webhook-id and body)",
      usage: ["deliveries redeliver <task-id> <delivery-id>"],
      args: ["task-id", "delivery-id"],
      flags: {},
      examples: ["codeforge deliveries redeliver tsk_01J9Z8Q4 msg_01J9Z8R2"],
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
