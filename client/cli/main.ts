/**
 * `codeforge`: the command-line client for the CodeForge API.
 *
 * The only place that reads `process.argv` and `process.env` and builds the real client;
 * every command receives an `ApiClient` and an `Output`, so the tests run them for real
 * against a real edge and read what they printed.
 * @module
 */
import { parseArgs } from "node:util";
import { ApiClient, CodeForgeError } from "../api-client.js";
import { resolveConfig } from "./cli-config.js";
import { followup } from "./commands/followup.js";
import { submit } from "./commands/submit.js";
import { cancel, logs, status } from "./commands/task-commands.js";
import { watch } from "./commands/watch.js";
import { EXIT, UsageError } from "./exit-codes.js";
import { consoleOutput, type Output } from "./output.js";

export const HELP = `codeforge — run AI coding CLIs on your repositories through CodeForge

Usage:
  codeforge submit --repo <url> (--prompt <text> | --prompt-file <file|->) [--ref <ref>]
                   [--cli demo|claude|aider|codex|gemini|opencode] [--model <m>] [--timeout <s>]
                   [--priority 0-9] [--pool <p>] [--label <l>]... [--idempotency-key <k>]
                   [--push [--branch <name>]] [--follow] [--json]
                   --push commits the change to a branch (default codeforge/<task-id>);
                   remote repositories need an access_token, which only the API takes
  codeforge followup <task-id> (--prompt <text> | --prompt-file <file|->) [--model <m>]
                   [--timeout <s>] [--idempotency-key <k>] [--follow] [--json]
                                               the next iteration of an ended task, on its changes
  codeforge watch <task-id> [--since <seq>]     live output until the task ends
  codeforge logs <task-id> [--since <seq>] [--json]
  codeforge status <task-id> [--json]
  codeforge cancel <task-id>

Connection (flags, else environment, else ~/.config/codeforge/config.json {"url","api_key"}):
  --url <url>      CODEFORGE_URL       (default http://127.0.0.1:8787)
  --key <key>      CODEFORGE_API_KEY
  --config <file>  CODEFORGE_CONFIG
  --no-color

Exit codes: 0 ok / task succeeded, 10 task failed, 11 timed out, 12 canceled,
            2 usage, 3 the API refused, 4 the edge is unreachable.`;

const OPTIONS = {
  url: { type: "string" },
  key: { type: "string" },
  config: { type: "string" },
  "no-color": { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
  repo: { type: "string" },
  ref: { type: "string" },
  prompt: { type: "string" },
  "prompt-file": { type: "string" },
  cli: { type: "string", default: "demo" },
  model: { type: "string" },
  timeout: { type: "string" },
  priority: { type: "string" },
  pool: { type: "string" },
  label: { type: "string", multiple: true, default: [] as string[] },
  "idempotency-key": { type: "string" },
  push: { type: "boolean", default: false },
  branch: { type: "string" },
  follow: { type: "boolean", short: "f", default: false },
  json: { type: "boolean", default: false },
  since: { type: "string", default: "0" },
} as const;

/** Runs one command line; returns the exit code. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv, out: Output): Promise<number> {
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
    const { values, positionals } = parsed;
    const [command, taskId, ...extra] = positionals;
    if (values.help || command === undefined || command === "help") {
      out.line(HELP);
      return command === undefined && !values.help ? EXIT.usage : EXIT.ok;
    }
    if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(" ")}`);
    const config = resolveConfig({ flags: { url: values.url, key: values.key, config: values.config }, env });
    const client = new ApiClient({ baseUrl: config.url, apiKey: config.apiKey });
    const output: Output = { ...out, color: out.color && !values["no-color"] };
    const needId = () => {
      if (!taskId) throw new UsageError(`${command} needs a task id`);
      return taskId;
    };
    const since = Number(values.since);
    if (!Number.isInteger(since) || since < 0) throw new UsageError("--since takes a sequence number (0 or more)");

    switch (command) {
      case "submit":
        if (taskId) throw new UsageError(`submit takes flags, not ${JSON.stringify(taskId)}`);
        return await submit(
          client,
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
            idempotencyKey: values["idempotency-key"],
            push: values.push,
            branch: values.branch,
            follow: values.follow,
            json: values.json,
          },
          output,
        );
      case "followup":
        return await followup(client, { taskId: needId(), prompt: values.prompt, promptFile: values["prompt-file"], model: values.model, timeout: values.timeout, idempotencyKey: values["idempotency-key"], follow: values.follow, json: values.json }, output);
      case "watch":
        return await watch(client, { taskId: needId(), since }, output);
      case "logs":
        return await logs(client, { taskId: needId(), since, json: values.json }, output);
      case "status":
        return await status(client, { taskId: needId(), json: values.json }, output);
      case "cancel":
        return await cancel(client, { taskId: needId() }, output);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)} (try codeforge --help)`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      out.error(`codeforge: ${err.message}`);
      return EXIT.usage;
    }
    if (err instanceof CodeForgeError) {
      const field = err.field ? ` [${err.field}]` : "";
      out.error(`codeforge: ${err.code}${field}: ${err.message}${err.requestId ? ` (request ${err.requestId})` : ""}`);
      return EXIT.apiError;
    }
    if (err instanceof TypeError && /fetch failed/.test(err.message)) {
      out.error(`codeforge: cannot reach the edge (${(err.cause as Error | undefined)?.message ?? err.message})`);
      return EXIT.unreachable;
    }
    throw err;
  }
}
