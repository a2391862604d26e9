/**
 * `codeforge submit`: creates a task from flags; prints its id (or JSON), or with `--follow`
 * streams it to the end and exits with its outcome.
 * @module
 */
import { readFileSync } from "node:fs";
import type { CreateTaskInput } from "#api/task-request.js";
import type { ApiClient } from "../../api-client.js";
import { envFromNames, intFlag, parseFlags, secretFromEnv, type Command } from "../command.js";
import { exitCodeFor, UsageError } from "../exit-codes.js";
import type { Output } from "../output.js";
import { followAndPrint } from "./watch.js";

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
  /** The task's budget per iteration (`max_cost_usd`, `max_tokens`, `max_turns`), as given. */
  maxCostUsd?: string;
  maxTokens?: string;
  maxTurns?: string;
  idempotencyKey?: string;
  push: boolean;
  branch?: string;
  follow: boolean;
  json: boolean;
}

export async function submit(client: ApiClient, args: SubmitArgs, out: Output): Promise<number> {
  if (!args.repo) throw new UsageError("submit needs --repo <url>");
  if (args.prompt !== undefined && args.promptFile !== undefined) throw new UsageError("give --prompt or --prompt-file, not both");
  const prompt = args.promptFile !== undefined ? readFileSync(args.promptFile === "-" ? 0 : args.promptFile, "utf8") : args.prompt;
  if (!prompt) throw new UsageError("submit needs --prompt <text> or --prompt-file <file> ('-' for stdin)");
  if (args.branch !== undefined && !args.push) throw new UsageError("--branch needs --push");

  const input: CreateTaskInput = {
    repo: { url: args.repo, ...(args.ref ? { ref: args.ref } : {}) },
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
  const done = await followAndPrint(client, task.id, out, { json: args.json });
  return exitCodeFor(done.status);
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

export const submitCommand: Command = {
  name: "submit",
  usage: [
    "submit --repo <url> (--prompt <text> | --prompt-file <file|->) [--ref <ref>]",
    "       [--cli demo|claude|aider|codex|gemini|opencode|script] [--model <m>] [--timeout <s>]",
    "       [--priority 0-9] [--pool <p>] [--label <l>]... [--callback-url <url>]",
    "       [--push [--branch <name>]] [--access-token-env <VAR>] [--env <NAME>]...",
    "       [--autonomy full|edits] [--egress-allow <host-pattern>]... [--idempotency-key <k>] [--follow]",
    "       [--max-cost-usd <usd>] [--max-tokens <n>] [--max-turns <n>]",
    "       prints the task id; --follow streams it to the end. --push commits the change to a branch",
    "       (default codeforge/<task-id>); remote repositories need a token that may push:",
    "       --access-token-env names the environment variable holding it (never a flag value).",
    "       --env NAME gives the CLI the variable NAME with its value from this environment (an API key, say).",
    "       --autonomy edits: the CLI may edit files but gets no blanket approval to run commands.",
    "       --egress-allow narrows the hosts the agent's sandbox may reach (its model API stays reachable)",
    "       --max-cost-usd, --max-tokens, --max-turns: the budget per iteration; past it the task fails as budget_exceeded.",
  ],
  async run(argv, ctx) {
    const { values, positionals } = parseFlags(argv, {
      repo: { type: "string" },
      ref: { type: "string" },
      prompt: { type: "string" },
      "prompt-file": { type: "string" },
      cli: { type: "string", default: "demo" },
      model: { type: "string" },
      timeout: { type: "string" },
      priority: { type: "string" },
      pool: { type: "string" },
      label: { type: "string", multiple: true, default: [] },
      "callback-url": { type: "string" },
      "idempotency-key": { type: "string" },
      push: { type: "boolean", default: false },
      branch: { type: "string" },
      "access-token-env": { type: "string" },
      env: { type: "string", multiple: true, default: [] },
      autonomy: { type: "string" },
      "egress-allow": { type: "string", multiple: true, default: [] },
      "max-cost-usd": { type: "string" },
      "max-tokens": { type: "string" },
      "max-turns": { type: "string" },
      follow: { type: "boolean", short: "f", default: false },
    });
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
        maxCostUsd: values["max-cost-usd"],
        maxTokens: values["max-tokens"],
        maxTurns: values["max-turns"],
        follow: values.follow,
        json: values.json,
      },
      ctx.out,
    );
  },
};
