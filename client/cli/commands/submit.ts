/**
 * `codeforge submit`: creates a task from flags; prints its id (or JSON), or with `--follow`
 * streams it to the end and exits with its outcome.
 * @module
 */
import { readFileSync } from "node:fs";
import type { CreateTaskInput } from "../../../api/task.js";
import type { ApiClient } from "../../api-client.js";
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
  idempotencyKey?: string;
  push: boolean;
  branch?: string;
  follow: boolean;
  json: boolean;
}

const integer = (flag: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} takes a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
};

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
    ...(args.timeout !== undefined ? { timeout_seconds: integer("--timeout", args.timeout) } : {}),
    ...(args.priority !== undefined ? { priority: integer("--priority", args.priority) } : {}),
    ...(args.pool ? { pool: args.pool } : {}),
    ...(args.labels.length ? { labels: args.labels } : {}),
    ...(args.push ? { push: true } : {}),
    ...(args.branch !== undefined ? { branch: args.branch } : {}),
  };
  const task = await client.createTask(input, { idempotencyKey: args.idempotencyKey });
  if (!args.follow) {
    out.line(args.json ? JSON.stringify(task, null, 2) : task.id);
    return 0;
  }
  out.line(`submitted ${task.id}`);
  const done = await followAndPrint(client, task.id, out);
  return exitCodeFor(done.status);
}
