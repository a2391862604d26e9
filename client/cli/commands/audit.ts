/**
 * `codeforge audit` (admin): the audit log, newest first — who changed what, when, from where,
 * and whether it worked — filtered as the API filters it (actor, action, target, time), a page
 * at a time or `--all`, as a table or the API's JSON; and `audit export`, a time range oldest
 * first as NDJSON, every request of it, to keep the log beyond its retention.
 * @module
 */
import { AuditAction, type AuditEntry, type AuditPage, type AuditQuery } from "#api/audit.js";
import { AUDIT_PAGE_DEFAULT, AUDIT_PAGE_MAX, AUDIT_RETENTION_DAYS } from "#api/limits.js";
import { intFlag, parseFlags, positionals, type Command, type CommandContext, type FlagSpecs } from "../command.js";
import { UsageError } from "../exit-codes.js";
import { renderTable, shortTime, type Column } from "../table.js";

const COLUMNS: Column<AuditEntry>[] = [
  { header: "TIME (UTC)", cell: (e) => shortTime(e.at) },
  { header: "ACTOR", cell: (e) => e.actor, maxWidth: 32 },
  { header: "ACTION", cell: (e) => e.action },
  { header: "TARGET", cell: (e) => e.target ?? "-", maxWidth: 36 },
  { header: "OUTCOME", cell: (e) => (e.outcome === "failure" && e.error_code ? `failure (${e.error_code})` : e.outcome) },
  { header: "CLIENT IP", cell: (e) => e.client_ip ?? "-" },
  { header: "REQUEST", cell: (e) => e.request_id },
  {
    header: "DETAIL",
    cell: (e) =>
      Object.entries(e.detail ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(" ") || "-",
    maxWidth: 60,
  },
];

const DURATION = /^(\d+)([smhd])$/;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An ISO time as given, or `30m`, `24h`, `7d` before now as an ISO time. */
export function timeFlag(flag: string, text: string | undefined, now = Date.now()): string | undefined {
  if (text === undefined) return undefined;
  const ago = DURATION.exec(text);
  if (ago) return new Date(now - Number(ago[1]) * UNIT_MS[ago[2]!]!).toISOString();
  if (/^\d{4}-\d{2}-\d{2}T/.test(text) && !Number.isNaN(Date.parse(text))) return text;
  throw new UsageError(`--${flag} takes an ISO 8601 time with a zone (2026-01-31T12:00:00Z) or a time ago (30m, 24h, 7d), got ${JSON.stringify(text)}`);
}

const auditFlags = {
  actor: { type: "string", value: "<key-id>", description: "Only what this actor did (a key id, admin, runner:<id>, github:<login>)" },
  action: { type: "string", value: "<action>", description: "Only this action", choices: AuditAction.options },
  target: { type: "string", value: "<id>", description: "Only what was done to this task, key, credential or installation" },
  since: { type: "string", value: "<time>", description: "Only entries at or after this time: ISO 8601, or ago (30m, 24h, 7d)" },
  until: { type: "string", value: "<time>", description: "Only entries before this time: ISO 8601, or ago (30m, 24h, 7d)" },
  limit: { type: "string", value: "<n>", description: `Entries per page, 1 to ${AUDIT_PAGE_MAX} (default ${AUDIT_PAGE_DEFAULT})` },
  cursor: { type: "string", value: "<cursor>", description: "The page after this cursor, as a previous page printed it" },
  all: { type: "boolean", default: false, description: `Every page (the log keeps ${AUDIT_RETENTION_DAYS} days)` },
} as const satisfies FlagSpecs;

const listCommand: Command = {
  name: "list",
  summary: "entries newest first, filtered, as a table (the default)",
  description: "Every filter given must match.",
  usage: ["audit [list] [flags]"],
  flags: auditFlags,
  examples: [
    "codeforge audit --since 24h",
    "codeforge audit --action key.create --actor admin",
    "# Everything done to one task",
    "codeforge audit --target tsk_01J9Z8Q4 --all",
    "codeforge audit --all --since 7d --jq '.entries[] | select(.outcome == \"failure\")'",
  ],
  async run(argv, ctx) {
    const { values, positionals } = parseFlags(argv, auditFlags);
    if (positionals.length) throw new UsageError(`unexpected arguments: ${positionals.join(" ")}`);
    const action = values.action === undefined ? undefined : AuditAction.safeParse(values.action);
    if (action && !action.success) throw new UsageError(`--action must be one of ${AuditAction.options.join(", ")}, got ${JSON.stringify(values.action)}`);
    if (values.all && (values.limit !== undefined || values.cursor !== undefined))
      throw new UsageError("--all reads every page: give it without --limit or --cursor");
    const query: Partial<AuditQuery> = {
      actor: values.actor,
      action: action?.data,
      target: values.target,
      since: timeFlag("since", values.since),
      until: timeFlag("until", values.until),
      limit: values.all ? AUDIT_PAGE_MAX : (intFlag("limit", values.limit, { min: 1, max: AUDIT_PAGE_MAX }) ?? AUDIT_PAGE_DEFAULT),
      cursor: values.cursor,
    };
    const client = ctx.client();
    let page: AuditPage = await client.audit(query);
    const entries = [...page.entries];
    while (values.all && page.next_cursor !== null) {
      page = await client.audit({ ...query, cursor: page.next_cursor });
      entries.push(...page.entries);
    }
    if (values.json) {
      ctx.out.line(JSON.stringify({ entries, next_cursor: page.next_cursor }, null, 2));
      return 0;
    }
    const filtered = ["actor", "action", "target", "since", "until"].some((f) => values[f as keyof typeof values] !== undefined);
    if (entries.length === 0) ctx.out.line(`no audit entries${filtered ? " match these filters" : ""}${values.cursor ? " after this cursor" : ""}`);
    else for (const line of renderTable(entries, COLUMNS)) ctx.out.line(line);
    if (page.next_cursor !== null) {
      // The same filters, with times made absolute so the next page lines up with this one.
      const again = (["actor", "action", "target", "since", "until", "limit"] as const)
        .map((f) => {
          const value = f === "since" || f === "until" ? query[f] : values[f];
          return value === undefined ? "" : `--${f} ${value}`;
        })
        .filter(Boolean)
        .join(" ");
      ctx.out.line(`more: codeforge audit ${again ? `${again} ` : ""}--cursor ${page.next_cursor}`);
    }
    return 0;
  },
};

const exportFlags = {
  since: { type: "string", value: "<time>", description: "From this time: ISO 8601, or ago (30m, 24h, 7d) (default: the start of the retention)" },
  until: { type: "string", value: "<time>", description: "Up to this time: ISO 8601, or ago (default: now)" },
  cursor: { type: "string", value: "<cursor>", description: "Go on after an interrupted export, from the cursor it printed on stderr" },
} as const satisfies FlagSpecs;

async function exportLog(argv: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals: given } = parseFlags(argv, exportFlags);
  positionals("audit export", given, []);
  // The end is fixed once, so every request of the export reads the same range.
  const query = { since: timeFlag("since", values.since), until: timeFlag("until", values.until) ?? new Date().toISOString() };
  const client = ctx.client();
  let count = 0;
  // An entry's id is the cursor that goes on after it: what an interrupted export resumes from.
  let last: string | undefined = values.cursor;
  let cursor = values.cursor;
  try {
    do {
      cursor =
        (await client.exportAudit({ ...query, cursor }, (line) => {
          ctx.out.line(line);
          last = (JSON.parse(line) as { id: string }).id;
          count++;
        })) ?? undefined;
    } while (cursor !== undefined);
  } catch (err) {
    if (last !== undefined)
      ctx.out.error(
        `stopped after ${count} entries; go on with: codeforge audit export${query.since ? ` --since ${query.since}` : ""} --until ${query.until} --cursor ${last}`,
      );
    throw err;
  }
  ctx.out.error(`exported ${count} audit ${count === 1 ? "entry" : "entries"}${query.since ? ` from ${query.since}` : ""} until ${query.until}`);
  return 0;
}

export const auditCommand: Command = {
  name: "audit",
  summary: "read the audit log: who changed what, when, from where (admin)",
  description: `Entries name the acting key's id, never a secret, and keep nothing from request bodies; they are kept ${AUDIT_RETENTION_DAYS} days.`,
  usage: ["audit [list] [flags]", "audit export [flags]"],
  flags: {},
  examples: ["codeforge audit --since 24h --action key.create", "codeforge audit export --since 7d > audit.ndjson"],
  defaultSubcommand: "list",
  subcommands: [
    listCommand,
    {
      name: "export",
      summary: "every entry of a time range, oldest first, one JSON line each",
      description: `NDJSON on stdout (each line an entry as GET /api/v1/audit/export sends it), following the edge's next_cursor until the range ends; the count goes to stderr. To keep the log beyond its ${AUDIT_RETENTION_DAYS} days, run it on a schedule.`,
      usage: ["audit export [flags]"],
      flags: exportFlags,
      examples: [
        "codeforge audit export --since 24h > audit-$(date +%F).ndjson",
        "codeforge audit export --since 2026-01-01T00:00:00Z --until 2026-02-01T00:00:00Z",
      ],
      run: exportLog,
    },
  ],
};
