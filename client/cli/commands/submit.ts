/**
 * `codeforge submit`: creates a task from flags; prints its id (or JSON), or with `--follow`
 * streams it to the end and exits with its outcome.
 * @module
 */
import { readFileSync } from "node:fs";
import type { CreateTaskInput } from "#api/task-request.js";
import type { ApiClient } from "../../api-client.js";
import { checkoutDefaults, type CheckoutDefaults } from "../checkout-origin.js";
import { envFromNames, intFlag, parseFlags, secretFromEnv, type Command, type FlagSpecs } from "../command.js";
import { exitCodeFor, UsageError } from "../exit-codes.js";
import type { Output } from "../output.js";
import { followAndPrint, TIMESTAMPS_FLAG } from "./watch.js";

export interface SubmitArgs {
  repo?: string;
  ref?: string;
  prompt?: string;
  promptFile?: string;
  cli: string;
  model?: string;
  timeout?: string;
  priority?: string;
  pool?: string;
  labels: string[];
  callbackUrl?: string;
  /** The repository token, read from the environment (`--access-token-env`). */
  accessToken?: string;
  /** The task's `env`, each value read from the caller's environment (`--env NAME`). */
  env?: Record<string, string>;
  autonomy?: string;
  egressAllow: string[];
  /** Setup commands run before the CLI (`--setup`, in order); `[]` with `--no-setup`. */
  setup?: string[];
  /** The task's budget per iteration (`max_cost_usd`, `max_tokens`, `max_turns`), as given. */
  maxCostUsd?: string;
  maxTokens?: string;
  maxTurns?: string;
  idempotencyKey?: string;
  push: boolean;
  branch?: string;
  follow: boolean;
  json: boolean;
  timestamps?: boolean;
}

export interface SubmitOptions {
  /** Where --repo and --ref default from: the checkout the command runs in. */
  checkout?: () => Promise<CheckoutDefaults | null>;
}

export async function submit(client: ApiClient, args: SubmitArgs, out: Output, options: SubmitOptions = {}): Promise<number> {
  if (args.prompt !== undefined && args.promptFile !== undefined) throw new UsageError("give --prompt or --prompt-file, not both");
  const prompt = args.promptFile !== undefined ? readFileSync(args.promptFile === "-" ? 0 : args.promptFile, "utf8") : args.prompt;
  if (!prompt) throw new UsageError("submit needs --prompt <text> or --prompt-file <file> ('-' for stdin)");
  if (args.branch !== undefined && !args.push) throw new UsageError("--branch needs --push");
  const repo = args.repo ? { url: args.repo, ref: args.ref } : await repoFromCheckout(args, out, options.checkout ?? (() => checkoutDefaults(process.cwd())));

  const input: CreateTaskInput = {
    repo: { url: repo.url, ...(repo.ref ? { ref: repo.ref } : {}) },
    prompt,
    cli: args.cli as CreateTaskInput["cli"],
    ...(args.model ? { model: args.model } : {}),
    ...(args.timeout !== undefined ? { timeout_seconds: intFlag("timeout", args.timeout) } : {}),
    ...(args.priority !== undefined ? { priority: intFlag("priority", args.priority) } : {}),
    ...(args.pool ? { pool: args.pool } : {}),
    ...(args.labels.length ? { labels: args.labels } : {}),
    ...(args.push ? { push: true } : {}),
    ...(args.branch !== undefined ? { branch: args.branch } : {}),
    ...(args.callbackUrl ? { callback_url: args.callbackUrl } : {}),
    ...(args.accessToken !== undefined ? { access_token: args.accessToken } : {}),
    ...(args.env ? { env: args.env } : {}),
    ...(args.autonomy !== undefined ? { autonomy: autonomyFlag(args.autonomy) } : {}),
    ...(args.egressAllow.length ? { egress_allow: args.egressAllow } : {}),
    ...(args.setup !== undefined ? { setup: args.setup } : {}),
    ...(args.maxCostUsd !== undefined ? { max_cost_usd: dollarsFlag("max-cost-usd", args.maxCostUsd) } : {}),
    ...(args.maxTokens !== undefined ? { max_tokens: intFlag("max-tokens", args.maxTokens, { min: 1 }) } : {}),
    ...(args.maxTurns !== undefined ? { max_turns: intFlag("max-turns", args.maxTurns, { min: 1 }) } : {}),
  };
  const task = await client.createTask(input, { idempotencyKey: args.idempotencyKey });
  if (!args.follow) {
    out.line(args.json ? JSON.stringify(task, null, 2) : task.id);
    return 0;
  }
  if (!args.json) out.line(`submitted ${task.id}`);
  const done = await followAndPrint(client, task.id, out, { json: args.json, timestamps: args.timestamps });
  return exitCodeFor(done.status);
}

/** --repo (and --ref, unless given) from this checkout's origin and branch, said on stderr. */
async function repoFromCheckout(
  args: SubmitArgs,
  out: Output,
  checkout: () => Promise<CheckoutDefaults | null>,
): Promise<{ url: string; ref: string | undefined }> {
  const found = await checkout();
  if (!found) throw new UsageError("submit needs --repo <url> (or run it inside a git checkout that has an origin remote)");
  const ref = args.ref ?? found.ref ?? undefined;
  const from = args.ref === undefined && found.ref ? "this checkout's origin and branch" : "this checkout's origin";
  if (!args.json) out.error(`repository ${found.url}${ref ? ` @ ${ref}` : ""} (from ${from})`);
  if (found.credentialsRemoved && !args.json) out.error("  the credentials in the origin URL were left out: give the runner a token with --access-token-env");
  return { url: found.url, ref };
}

function dollarsFlag(flag: string, value: string): number {
  const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!(n > 0)) throw new UsageError(`--${flag} takes an amount in US dollars above 0 (e.g. 2.50), got ${JSON.stringify(value)}`);
  return n;
}

function autonomyFlag(value: string): "full" | "edits" {
  if (value !== "full" && value !== "edits") throw new UsageError(`--autonomy is full or edits, got ${JSON.stringify(value)}`);
  return value;
}

const CLIS = ["demo", "claude", "aider", "codex", "gemini", "opencode", "script"] as const;

const submitFlags = {
  repo: {
    type: "string",
    short: "R",
    value: "<url>",
    description: "The repository to clone (https, ssh, or file:// locally; default: this checkout's origin)",
  },
  ref: {
    type: "string",
    value: "<ref>",
    description: "The branch, tag or commit to start from (default: this checkout's branch with its origin, else the remote's HEAD)",
  },
  prompt: { type: "string", short: "p", value: "<text>", description: "What the agent should do" },
  "prompt-file": { type: "string", value: "<file>", description: "Read the prompt from a file ('-' for stdin)" },
  cli: { type: "string", default: "demo", value: "<cli>", description: "The coding CLI to run", choices: CLIS },
  model: { type: "string", value: "<model>", description: "The model the CLI uses" },
  timeout: { type: "string", value: "<seconds>", description: "The task's time limit" },
  priority: { type: "string", value: "<0-9>", description: "Higher runs first within the pool" },
  pool: { type: "string", value: "<pool>", description: "The runner pool to run in" },
  label: { type: "string", multiple: true, default: [], value: "<label>", description: "Only runners with this label" },
  "callback-url": { type: "string", value: "<url>", description: "Where to send signed webhooks about the task" },
  push: { type: "boolean", default: false, description: "Commit the change and push it to a branch" },
  branch: { type: "string", value: "<name>", description: "The branch --push pushes to (default codeforge/<task-id>)" },
  "access-token-env": { type: "string", value: "<VAR>", description: "The environment variable holding a repository token (never a flag value)" },
  env: { type: "string", multiple: true, default: [], value: "<NAME>", description: "Give the CLI NAME with its value from this environment" },
  autonomy: {
    type: "string",
    value: "<level>",
    description: "What the CLI may do unasked; edits: edit files, with no blanket approval to run commands",
    choices: ["full", "edits"],
  },
  "egress-allow": {
    type: "string",
    multiple: true,
    default: [],
    value: "<host>",
    description: "Narrow the hosts the sandbox may reach (its model API stays reachable)",
  },
  setup: {
    type: "string",
    multiple: true,
    default: [],
    value: "<command>",
    description: "A command run in the checkout before the CLI, e.g. npm ci (default: the pool's setup)",
  },
  "no-setup": { type: "boolean", default: false, description: "Run no setup at all, not even the pool's default" },
  "max-cost-usd": { type: "string", value: "<usd>", description: "Budget per iteration in US dollars; past it the task fails as budget_exceeded" },
  "max-tokens": { type: "string", value: "<n>", description: "Budget per iteration in tokens" },
  "max-turns": { type: "string", value: "<n>", description: "Budget per iteration in agent turns" },
  "idempotency-key": { type: "string", value: "<key>", description: "Retrying with the same key creates no second task" },
  follow: { type: "boolean", short: "f", default: false, description: "Stream the task to its end and exit with its outcome" },
  timestamps: { ...TIMESTAMPS_FLAG, description: "With --follow: prefix each event line with its time (HH:MM:SS, UTC)" },
} as const satisfies FlagSpecs;

/** `--setup` commands, `[]` for `--no-setup`, undefined (the pool's default) for neither. */
function setupFlag(commands: string[], none: boolean): string[] | undefined {
  if (none && commands.length) throw new UsageError("give --setup or --no-setup, not both");
  if (none) return [];
  return commands.length ? commands : undefined;
}

export const submitCommand: Command = {
  name: "submit",
  summary: "create a task: a coding CLI runs your prompt on a repository",
  description:
    "Prints the task's id, or with --follow streams it to its end and exits with its outcome. Inside a git checkout, --repo defaults to its origin and --ref to its current branch (said on stderr).",
  usage: ["submit --repo <url> --prompt <text> [flags]", "submit --prompt <text> [flags]   (inside a checkout: its origin)"],
  flags: submitFlags,
  examples: [
    "# from inside a clone: its origin, at the current branch",
    'codeforge submit --prompt "Add a test for greet" --follow --timestamps',
    'codeforge submit --repo https://github.com/acme/app --prompt "Fix the flaky test" --cli claude --follow',
    "# push the change to a branch, with a token that may push",
    'codeforge submit -R https://github.com/acme/app -p "Bump lodash" --push --access-token-env GITHUB_TOKEN',
    "codeforge submit -R https://github.com/acme/app --prompt-file task.md --max-cost-usd 2",
    "# install dependencies first, so the agent can run the tests",
    'codeforge submit -p "Fix the failing test" --setup "npm ci" --follow',
  ],
  async run(argv, ctx) {
    const { values, positionals } = parseFlags(argv, submitFlags);
    if (positionals.length) throw new UsageError(`submit takes flags, not ${JSON.stringify(positionals[0])}`);
    return submit(
      ctx.client(),
      {
        repo: values.repo,
        ref: values.ref,
        prompt: values.prompt,
        promptFile: values["prompt-file"],
        cli: values.cli,
        model: values.model,
        timeout: values.timeout,
        priority: values.priority,
        pool: values.pool,
        labels: values.label,
        callbackUrl: values["callback-url"],
        idempotencyKey: values["idempotency-key"],
        push: values.push,
        branch: values.branch,
        accessToken: secretFromEnv("access-token-env", values["access-token-env"]),
        env: envFromNames(values.env),
        autonomy: values.autonomy,
        egressAllow: values["egress-allow"],
        setup: setupFlag(values.setup, values["no-setup"]),
        maxCostUsd: values["max-cost-usd"],
        maxTokens: values["max-tokens"],
        maxTurns: values["max-turns"],
        follow: values.follow,
        json: values.json,
        timestamps: values.timestamps,
      },
      ctx.out,
    );
  },
};
