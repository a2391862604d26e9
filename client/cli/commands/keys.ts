/**
 * `codeforge keys` (admin): list, show, create (the secret is printed this once), rotate and
 * revoke API keys.
 * @module
 */
import { Scope, type ApiKey, type ApiKeyList, type ApiKeyWithSecret, type CreateKeyInput } from "#api/keys.js";
import { KEYS_PAGE_MAX } from "#api/limits.js";
import { intFlag, parseFlags, positionals, type Command, type CommandContext, type FlagSpecs } from "../command.js";
import { UsageError } from "../exit-codes.js";
import { renderTable, shortTime, type Column } from "../table.js";

const COLUMNS: Column<ApiKey>[] = [
  { header: "ID", cell: (k) => k.id },
  { header: "NAME", cell: (k) => k.name, maxWidth: 30 },
  { header: "SCOPES", cell: (k) => k.scopes.join(",") },
  { header: "STATUS", cell: (k) => k.status },
  { header: "CREATED (UTC)", cell: (k) => shortTime(k.created_at) },
  { header: "EXPIRES (UTC)", cell: (k) => shortTime(k.expires_at) },
  { header: "CIDRS", cell: (k) => k.allowed_cidrs.join(",") || "any", maxWidth: 40 },
];

/** Every field of one key, aligned. */
function keyDetails(k: ApiKey): string[] {
  const limits = Object.entries(k.limits).map(([name, value]) => `${name}=${value}`);
  return [
    `id          ${k.id}`,
    `name        ${k.name}`,
    `scopes      ${k.scopes.join(", ")}`,
    `status      ${k.status}${k.revoked_at ? ` (revoked ${shortTime(k.revoked_at)})` : ""}`,
    `created     ${shortTime(k.created_at)} by ${k.created_by}`,
    `expires     ${k.expires_at ? shortTime(k.expires_at) : "never"}`,
    `rotated     ${k.rotated_at ? shortTime(k.rotated_at) : "never"}${k.previous_secret_expires_at ? `; the previous secret works until ${shortTime(k.previous_secret_expires_at)}` : ""}`,
    `addresses   ${k.allowed_cidrs.join(", ") || "any"}`,
    `limits      ${limits.join(", ") || "the edge's defaults"}`,
  ];
}

/** Prints a key with its secret, and says once, on stderr, that it will not be shown again. */
function printSecret(ctx: CommandContext, key: ApiKeyWithSecret, json: boolean, verb: string): void {
  if (json) {
    ctx.out.line(JSON.stringify(key, null, 2));
  } else {
    ctx.out.line(`${verb} ${key.id} "${key.name}" (${key.scopes.join(", ")})`);
    ctx.out.line(`key: ${key.key}`);
  }
  ctx.out.error("Store the key now: it is not shown again.");
}

const DURATION = /^(\d+)([smhd])$/;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** `30d`, `12h`, `45m`, `3600s` → an ISO time that far from now. */
function expiresIn(text: string, now = Date.now()): string {
  const match = DURATION.exec(text);
  if (!match || Number(match[1]) === 0) throw new UsageError(`--expires-in takes a duration like 30d, 12h, 45m or 3600s, got ${JSON.stringify(text)}`);
  return new Date(now + Number(match[1]) * UNIT_SECONDS[match[2]!]! * 1_000).toISOString();
}

const listFlags = {
  limit: { type: "string", value: "<n>", description: `Keys per page, 1 to ${KEYS_PAGE_MAX} (default 50)` },
  cursor: { type: "string", value: "<cursor>", description: "The page after this cursor, as a previous page printed it" },
  all: { type: "boolean", default: false, description: "Every page" },
} as const satisfies FlagSpecs;

async function list(argv: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals: given } = parseFlags(argv, listFlags);
  positionals("keys list", given, []);
  const client = ctx.client();
  const query = { limit: values.all ? KEYS_PAGE_MAX : (intFlag("limit", values.limit, { min: 1, max: KEYS_PAGE_MAX }) ?? 50), cursor: values.cursor };
  let page: ApiKeyList = await client.listKeys(query);
  const keys = [...page.keys];
  while (values.all && page.next_cursor !== null) {
    page = await client.listKeys({ ...query, cursor: page.next_cursor });
    keys.push(...page.keys);
  }
  if (values.json) {
    ctx.out.line(JSON.stringify({ keys, next_cursor: page.next_cursor }, null, 2));
    return 0;
  }
  if (keys.length === 0) ctx.out.line("no keys yet (the bootstrap admin key is not listed): make one with codeforge keys create --name <name>");
  else for (const line of renderTable(keys, COLUMNS)) ctx.out.line(line);
  if (page.next_cursor !== null) ctx.out.line(`more: codeforge keys list --cursor ${page.next_cursor}`);
  return 0;
}

/** What a key gets when `keys create` names no `--scope`. */
const DEFAULT_SCOPES: Scope[] = ["tasks:read", "tasks:write"];

const createFlags = {
  name: { type: "string", value: "<name>", description: "What the key is for (required)" },
  scope: {
    type: "string",
    multiple: true,
    default: [],
    value: "<scope>",
    description: "A permission to grant (default tasks:read and tasks:write)",
    choices: Scope.options,
  },
  expires: { type: "string", value: "<time>", description: "When it stops working, an ISO 8601 time" },
  "expires-in": { type: "string", value: "<duration>", description: "When it stops working, from now: 30d, 12h, 45m or 3600s" },
  cidr: { type: "string", multiple: true, default: [], value: "<range>", description: "Only accept it from these addresses" },
  "requests-per-minute": { type: "string", value: "<n>", description: "Its request rate limit" },
  "tasks-per-minute": { type: "string", value: "<n>", description: "Its task creation rate limit" },
  "max-concurrent": { type: "string", value: "<n>", description: "At most this many of its tasks running" },
  "max-queued": { type: "string", value: "<n>", description: "At most this many of its tasks queued" },
} as const satisfies FlagSpecs;

async function create(argv: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals: given } = parseFlags(argv, createFlags);
  positionals("keys create", given, []);
  if (!values.name) throw new UsageError("keys create needs --name <what the key is for>");
  if (values.expires !== undefined && values["expires-in"] !== undefined) throw new UsageError("give --expires or --expires-in, not both");
  const scopes = values.scope.length ? values.scope : DEFAULT_SCOPES;
  for (const scope of scopes) {
    if (!Scope.safeParse(scope).success) throw new UsageError(`--scope must be one of ${Scope.options.join(", ")}, got ${JSON.stringify(scope)}`);
  }
  const limits = {
    requests_per_minute: intFlag("requests-per-minute", values["requests-per-minute"]),
    tasks_per_minute: intFlag("tasks-per-minute", values["tasks-per-minute"]),
    max_concurrent_tasks: intFlag("max-concurrent", values["max-concurrent"]),
    max_queued_tasks: intFlag("max-queued", values["max-queued"]),
  };
  const input: CreateKeyInput = {
    name: values.name,
    scopes: scopes as Scope[],
    ...(values.expires !== undefined ? { expires_at: values.expires } : {}),
    ...(values["expires-in"] !== undefined ? { expires_at: expiresIn(values["expires-in"]) } : {}),
    ...(values.cidr.length ? { allowed_cidrs: values.cidr } : {}),
    limits: Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)),
  };
  const key = await ctx.client().createKey(input);
  // A default that grants writing should not come as a surprise.
  if (!values.scope.length) ctx.out.error(`no --scope given: granting ${DEFAULT_SCOPES.join(", ")}`);
  printSecret(ctx, key, values.json, "created");
  return 0;
}

const rotateFlags = {
  overlap: { type: "string", value: "<seconds>", description: "How long the old secret keeps working (default a day)" },
} as const satisfies FlagSpecs;

async function rotate(argv: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals: given } = parseFlags(argv, rotateFlags);
  const [id] = positionals("keys rotate", given, ["key-id"]);
  const overlap = intFlag("overlap", values.overlap);
  const key = await ctx.client().rotateKey(id!, overlap === undefined ? {} : { overlap_seconds: overlap });
  printSecret(ctx, key, values.json, "rotated");
  if (!values.json) {
    ctx.out.line(
      key.previous_secret_expires_at
        ? `the previous secret works until ${shortTime(key.previous_secret_expires_at)} UTC`
        : "the previous secret no longer works",
    );
  }
  return 0;
}

async function revoke(argv: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals: given } = parseFlags(argv, {});
  const [id] = positionals("keys revoke", given, ["key-id"]);
  const key = await ctx.client().revokeKey(id!);
  ctx.out.line(values.json ? JSON.stringify(key, null, 2) : `${key.id} revoked; it is refused everywhere within seconds`);
  return 0;
}

async function show(argv: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals: given } = parseFlags(argv, {});
  const [id] = positionals("keys show", given, ["key-id"]);
  const key = await ctx.client().getKey(id!);
  if (values.json) ctx.out.line(JSON.stringify(key, null, 2));
  else for (const line of keyDetails(key)) ctx.out.line(line);
  return 0;
}

export const keysCommand: Command = {
  name: "keys",
  summary: "create, list, rotate and revoke API keys (admin)",
  usage: ["keys <command> [flags]"],
  flags: {},
  defaultSubcommand: "list",
  subcommands: [
    {
      name: "list",
      summary: "list API keys, newest first (the default)",
      usage: ["keys list [flags]"],
      flags: listFlags,
      examples: ["codeforge keys", "codeforge keys list --all --jq '.keys[] | select(.status == \"active\") | .id'"],
      run: list,
    },
    {
      name: "show",
      summary: "show one key",
      usage: ["keys show <key-id> [flags]"],
      args: ["key-id"],
      flags: {},
      examples: ["codeforge keys show key_01J9Z8Q4", "codeforge keys show key_01J9Z8Q4 --jq .limits"],
      run: show,
    },
    {
      name: "create",
      summary: "create a key; its secret is printed this once",
      usage: ["keys create --name <name> [flags]"],
      flags: createFlags,
      examples: [
        'codeforge keys create --name "CI for acme/app" --scope tasks:write --expires-in 90d',
        "codeforge keys create --name dashboards --scope tasks:read --cidr 10.0.0.0/8",
      ],
      run: create,
    },
    {
      name: "rotate",
      summary: "give a key a new secret; the old one works for the overlap",
      usage: ["keys rotate <key-id> [flags]"],
      args: ["key-id"],
      flags: rotateFlags,
      examples: ["codeforge keys rotate key_01J9Z8Q4 --overlap 3600"],
      run: rotate,
    },
    {
      name: "revoke",
      summary: "revoke a key; it is refused everywhere within seconds",
      usage: ["keys revoke <key-id>"],
      args: ["key-id"],
      flags: {},
      examples: ["codeforge keys revoke key_01J9Z8Q4"],
      run: revoke,
    },
  ],
};
