/**
 * `codeforge runners` (admin): the runners seen lately, across pools, and how busy they are.
 * @module
 */
import type { RunnerInfo } from "#api/runner-protocol.js";
import { parseFlags, type Command } from "../command.js";
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

export const runnersCommand: Command = {
  name: "runners",
  usage: ["runners                                     runners seen lately, across pools (admin)"],
  async run(argv, ctx) {
    const { values, positionals } = parseFlags(argv, {});
    if (positionals.length) throw new UsageError(`unexpected arguments: ${positionals.join(" ")}`);
    const list = await ctx.client().listRunners();
    if (values.json) ctx.out.line(JSON.stringify(list, null, 2));
    else if (list.runners.length === 0) ctx.out.line("no runners seen lately (a runner shows here once it asks for work)");
    else for (const line of renderTable(list.runners, COLUMNS)) ctx.out.line(line);
    return 0;
  },
};
