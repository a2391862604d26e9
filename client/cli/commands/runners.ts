/**
 * `codeforge runners` (admin): the runners seen lately, across pools (or of `--pool`), and how
 * busy they are; every page of the list.
 * @module
 */
import { RUNNERS_PAGE_MAX } from "#api/limits.js";
import type { RunnerInfo } from "#api/runner-protocol.js";
import { parseFlags, type Command, type FlagSpecs } from "../command.js";
import { UsageError } from "../exit-codes.js";
import { renderTable, shortTime, type Column } from "../table.js";

const COLUMNS: Column<RunnerInfo>[] = [
  { header: "ID", cell: (r) => r.id, maxWidth: 40 },
  { header: "POOL", cell: (r) => r.pool },
  { header: "BUSY", cell: (r) => `${r.running}/${r.capacity}` },
  { header: "CLIS", cell: (r) => r.clis.join(",") || "-" },
  { header: "LABELS", cell: (r) => r.labels.join(",") || "-" },
  { header: "VERSION", cell: (r) => r.version ?? "-" },
  { header: "LAST SEEN (UTC)", cell: (r) => shortTime(r.last_seen_at) },
];

const runnersFlags = {
  pool: { type: "string", value: "<pool>", description: "Only this pool's runners" },
} as const satisfies FlagSpecs;

export const runnersCommand: Command = {
  name: "runners",
  summary: "list the runners seen lately and how busy they are (admin)",
  usage: ["runners [flags]"],
  flags: runnersFlags,
  examples: ["codeforge runners", "codeforge runners --pool gpu --json"],
  async run(argv, ctx) {
    const { values, positionals } = parseFlags(argv, runnersFlags);
    if (positionals.length) throw new UsageError(`unexpected arguments: ${positionals.join(" ")}`);
    const client = ctx.client();
    const query = { pool: values.pool, limit: RUNNERS_PAGE_MAX };
    let page = await client.listRunners(query);
    const runners = [...page.runners];
    while (page.next_cursor !== null) {
      page = await client.listRunners({ ...query, cursor: page.next_cursor });
      runners.push(...page.runners);
    }
    const list = { runners, next_cursor: null };
    if (values.json) ctx.out.line(JSON.stringify(list, null, 2));
    else if (list.runners.length === 0) ctx.out.line("no runners seen lately (a runner shows here once it asks for work)");
    else for (const line of renderTable(list.runners, COLUMNS)) ctx.out.line(line);
    return 0;
  },
};
