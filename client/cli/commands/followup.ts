/**
 * `codeforge followup <task-id>`: gives an ended task a follow-up — its next iteration, on top
 * of what the last one changed; prints the iteration (or the task as JSON), or with `--follow`
 * streams that iteration to its end and exits with its outcome.
 * @module
 */
import { readFileSync } from "node:fs";
import type { FollowUpRequest } from "#api/task-request.js";
import type { ApiClient } from "../../api-client.js";
import { envFromNames, parseFlags, positionals, secretFromEnv, type Command, type FlagSpecs } from "../command.js";
import { exitCodeFor, UsageError } from "../exit-codes.js";
import type { Output } from "../output.js";
import { followAndPrint, TIMESTAMPS_FLAG } from "./watch.js";

export interface FollowUpArgs {
  taskId: string;
  prompt?: string;
  promptFile?: string;
  model?: string;
  timeout?: string;
  idempotencyKey?: string;
  /** The repository token again (a follow-up brings its own): from `--access-token-env`. */
  accessToken?: string;
  /** The env again (erased when each iteration ends): from `--env NAME`, values from this environment. */
  env?: Record<string, string>;
  follow: boolean;
  json: boolean;
  timestamps?: boolean;
}

export async function followup(client: ApiClient, args: FollowUpArgs, out: Output): Promise<number> {
  if (args.prompt !== undefined && args.promptFile !== undefined) throw new UsageError("give --prompt or --prompt-file, not both");
  const prompt = args.promptFile !== undefined ? readFileSync(args.promptFile === "-" ? 0 : args.promptFile, "utf8") : args.prompt;
  if (!prompt) throw new UsageError("followup needs --prompt <text> or --prompt-file <file> ('-' for stdin)");
  if (args.timeout !== undefined && !/^\d+$/.test(args.timeout)) throw new UsageError(`--timeout takes a whole number, got ${JSON.stringify(args.timeout)}`);

  const input: FollowUpRequest = {
    prompt,
    ...(args.model ? { model: args.model } : {}),
    ...(args.timeout !== undefined ? { timeout_seconds: Number(args.timeout) } : {}),
    ...(args.accessToken !== undefined ? { access_token: args.accessToken } : {}),
    ...(args.env ? { env: args.env } : {}),
  };
  const task = await client.followUp(args.taskId, input, { idempotencyKey: args.idempotencyKey });
  const current = task.iterations.find((i) => i.n === task.iteration);
  if (!args.follow) {
    out.line(args.json ? JSON.stringify(task, null, 2) : `${task.id} iteration ${task.iteration} ${task.status}`);
    return 0;
  }
  if (!args.json) out.line(`${task.id}: iteration ${task.iteration} submitted`);
  // From the iteration's first event: what came before is the earlier iterations'.
  const done = await followAndPrint(client, task.id, out, {
    since: current ? current.first_seq - 1 : task.last_seq,
    json: args.json,
    timestamps: args.timestamps,
  });
  return exitCodeFor(done.status);
}

const followupFlags = {
  prompt: { type: "string", short: "p", value: "<text>", description: "What to do next" },
  "prompt-file": { type: "string", value: "<file>", description: "Read the prompt from a file ('-' for stdin)" },
  model: { type: "string", value: "<model>", description: "The model for this iteration" },
  timeout: { type: "string", value: "<seconds>", description: "This iteration's time limit" },
  "access-token-env": {
    type: "string",
    value: "<VAR>",
    description: "The environment variable holding the repository token (a task with one needs it again)",
  },
  env: { type: "string", multiple: true, default: [], value: "<NAME>", description: "Give the CLI NAME with its value from this environment" },
  "idempotency-key": { type: "string", value: "<key>", description: "Retrying with the same key starts nothing new" },
  follow: { type: "boolean", short: "f", default: false, description: "Stream the iteration to its end and exit with its outcome" },
  timestamps: { ...TIMESTAMPS_FLAG, description: "With --follow: prefix each event line with its time (HH:MM:SS, UTC)" },
} as const satisfies FlagSpecs;

export const followupCommand: Command = {
  name: "followup",
  summary: "start the next iteration of an ended task, on its changes",
  description: "A task given a token or env needs them again: they are erased when each iteration ends.",
  usage: ["followup <task-id> --prompt <text> [flags]"],
  args: ["task-id"],
  flags: followupFlags,
  examples: [
    'codeforge followup tsk_01J9Z8Q4 --prompt "Also update the changelog" --follow',
    'codeforge followup tsk_01J9Z8Q4 --prompt "Now add tests" --follow --timestamps',
    "git diff | codeforge followup tsk_01J9Z8Q4 --prompt-file -",
  ],
  async run(argv, ctx) {
    const { values, positionals: given } = parseFlags(argv, followupFlags);
    const [taskId] = positionals("followup", given, ["task-id"]);
    return followup(
      ctx.client(),
      {
        taskId: taskId!,
        prompt: values.prompt,
        promptFile: values["prompt-file"],
        model: values.model,
        timeout: values.timeout,
        idempotencyKey: values["idempotency-key"],
        accessToken: secretFromEnv("access-token-env", values["access-token-env"]),
        env: envFromNames(values.env),
        follow: values.follow,
        json: values.json,
        timestamps: values.timestamps,
      },
      ctx.out,
    );
  },
};
