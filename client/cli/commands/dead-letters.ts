/**
 * `codeforge dead-letters` (admin): the webhook deliveries, across every owner's tasks, that
 * used up their retry schedule, newest first; and replaying one (the task's redeliver, found
 * from the delivery id through the index). A redelivered dead letter leaves the list.
 * @module
 */
import { DEAD_LETTERS_PAGE_DEFAULT, DEAD_LETTERS_PAGE_MAX } from "#api/limits.js";
import type { DeadLetter, DeadLetterList } from "#api/webhooks.js";
import { CodeForgeError } from "../../api-client.js";
import { intFlag, parseFlags, positionals, type Command, type CommandContext, type FlagSpecs } from "../command.js";
import { UsageError } from "../exit-codes.js";
import { renderTable, shortTime, type Column } from "../table.js";

const COLUMNS: Column<DeadLetter>[] = [
  { header: "DELIVERY", cell: (d) => d.delivery_id },
  { header: "TASK", cell: (d) => d.task_id },
  { header: "OWNER", cell: (d) => d.owner },
  { header: "EVENT", cell: (d) => d.event_type },
  { header: "ATTEMPTS", cell: (d) => String(d.attempts) },
  { header: "LAST", cell: (d) => (d.last_status !== null ? `HTTP ${d.last_status}` : (d.last_error ?? "-")), maxWidth: 40 },
  { header: "DEAD SINCE (UTC)", cell: (d) => shortTime(d.dead_at) },
  { header: "URL", cell: (d) => d.url, maxWidth: 60 },
];

const listFlags = {
  limit: { type: "string", value: "<n>", description: `Dead letters per page, 1 to ${DEAD_LETTERS_PAGE_MAX} (default ${DEAD_LETTERS_PAGE_DEFAULT})` },
  before: { type: "string", value: "<cursor>", description: "The page after this cursor, as a previous page printed it" },
  all: { type: "boolean", default: false, description: "Every page" },
} as const satisfies FlagSpecs;

async function list(argv: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals: given } = parseFlags(argv, listFlags);
  positionals("dead-letters list", given, []);
  if (values.all && (values.limit !== undefined || values.before !== undefined))
    throw new UsageError("--all reads every page: give it without --limit or --before");
  const query = {
    limit: values.all ? DEAD_LETTERS_PAGE_MAX : (intFlag("limit", values.limit, { min: 1, max: DEAD_LETTERS_PAGE_MAX }) ?? DEAD_LETTERS_PAGE_DEFAULT),
    before: values.before,
  };
  const client = ctx.client();
  let page: DeadLetterList = await client.deadLetters(query);
  const deadLetters = [...page.dead_letters];
  while (values.all && page.next_before !== null) {
    page = await client.deadLetters({ ...query, before: page.next_before });
    deadLetters.push(...page.dead_letters);
  }
  if (values.json) {
    ctx.out.line(JSON.stringify({ dead_letters: deadLetters, next_before: page.next_before }, null, 2));
    return 0;
  }
  if (deadLetters.length === 0)
    ctx.out.line(`no dead letters${values.before ? " after this cursor" : ": every webhook was delivered, or is still being retried"}`);
  else for (const line of renderTable(deadLetters, COLUMNS)) ctx.out.line(line);
  if (page.next_before !== null) ctx.out.line(`more: codeforge dead-letters ${values.limit ? `--limit ${values.limit} ` : ""}--before ${page.next_before}`);
  return 0;
}

/** The dead letter with this delivery id, read from the index page by page. */
async function findDeadLetter(ctx: CommandContext, deliveryId: string): Promise<DeadLetter> {
  const client = ctx.client();
  let before: string | undefined;
  for (;;) {
    const page = await client.deadLetters({ limit: DEAD_LETTERS_PAGE_MAX, before });
    const found = page.dead_letters.find((d) => d.delivery_id === deliveryId);
    if (found) return found;
    if (page.next_before === null) break;
    before = page.next_before;
  }
  throw new CodeForgeError(
    404,
    "not_found",
    `no dead letter ${deliveryId} (codeforge dead-letters lists them; a delivery still being retried is replayed with codeforge deliveries redeliver <task-id> <delivery-id>)`,
    null,
  );
}

async function redeliver(argv: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals: given } = parseFlags(argv, {});
  if (given.length === 0) throw new UsageError("dead-letters redeliver needs <delivery-id> (one or more)");
  const replayed = [];
  for (const deliveryId of given) {
    const dead = await findDeadLetter(ctx, deliveryId);
    const delivery = await ctx.client().redeliver(dead.task_id, dead.delivery_id);
    replayed.push(delivery);
    if (!values.json) ctx.out.line(`${delivery.id} of ${delivery.task_id} queued for redelivery to ${delivery.url} (attempt series ${delivery.series})`);
  }
  if (values.json) ctx.out.line(JSON.stringify(replayed.length === 1 ? replayed[0] : { deliveries: replayed }, null, 2));
  return 0;
}

export const deadLettersCommand: Command = {
  name: "dead-letters",
  summary: "list webhook deliveries that used up their retries, or replay them (admin)",
  description:
    "A dead letter is a delivery whose every scheduled attempt failed. Redelivering sends it again now, same webhook-id and body, in a new attempt series; once delivered it leaves the list.",
  usage: ["dead-letters [list] [flags]", "dead-letters redeliver <delivery-id>..."],
  flags: {},
  defaultSubcommand: "list",
  subcommands: [
    {
      name: "list",
      summary: "dead letters across every owner's tasks, newest first (the default)",
      usage: ["dead-letters [list] [flags]"],
      flags: listFlags,
      examples: ["codeforge dead-letters", "codeforge dead-letters --all --jq '.dead_letters[] | select(.last_status == 410) | .task_id'"],
      run: list,
    },
    {
      name: "redeliver",
      summary: "send dead letters again (same webhook-id and body)",
      usage: ["dead-letters redeliver <delivery-id>... [flags]"],
      args: ["dead-letter-id"],
      flags: {},
      examples: ["codeforge dead-letters redeliver msg_01J9Z8R2", "codeforge dead-letters redeliver msg_01J9Z8R2 msg_01J9Z8R7"],
      run: redeliver,
    },
  ],
};
