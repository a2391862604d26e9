/**
 * `codeforge`: the command-line client for the CodeForge API.
 *
 * The only place that reads `process.argv` and `process.env` (handed in by the binary) and
 * builds the real client; commands receive it through their context, so the tests run the real
 * binary against a real edge and read what it printed and how it exited.
 * @module
 */
import { parseArgs } from "node:util";
import { closestName, didYouMean } from "#api/suggest.js";
import { ApiClient } from "../api-client.js";
import { resolveConfig, type CliConfig } from "./cli-config.js";
import { GLOBAL_OPTIONS, GLOBAL_VALUE_FLAGS, type Command, type CommandContext } from "./command.js";
import { COMMANDS } from "./command-registry.js";
import { reportError } from "./error-report.js";
import { EXIT, UsageError } from "./exit-codes.js";
import { commandHelp, rootHelp } from "./help.js";
import { jqOutput } from "./jq-output.js";
import type { Output } from "./output.js";
import { VERSION } from "./version.js";

/** `codeforge --help`. */
export function helpText(env: NodeJS.ProcessEnv = {}): string {
  return rootHelp(COMMANDS, env);
}

/** The arguments that are neither global flags nor a global flag's value, with their positions. */
function words(argv: string[]): { word: string; index: number }[] {
  const found: { word: string; index: number }[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") break;
    if (!arg.startsWith("-")) found.push({ word: arg, index: i });
    else if (GLOBAL_VALUE_FLAGS.includes(arg)) i++;
  }
  return found;
}

/** The unknown-command error, naming the nearest command. */
function unknownCommand(name: string, within: readonly Command[], path: string): UsageError {
  const names = within.map((c) => c.name);
  const prefix = path ? `${path} ` : "";
  return new UsageError(`unknown command ${JSON.stringify(`${prefix}${name}`)}${didYouMean(name, names, (n) => JSON.stringify(`${prefix}${n}`))}`);
}

/** Whether `arg` is one of `command`'s flags that takes the next argument as its value. */
function takesValue(command: Command, arg: string | undefined): boolean {
  if (arg === undefined || arg.includes("=")) return false;
  const long = /^--(.+)$/.exec(arg);
  if (long) return command.flags[long[1]!]?.type === "string";
  const short = /^-(\w)$/.exec(arg);
  return short !== null && Object.values(command.flags).some((f) => f.short === short[1] && f.type === "string");
}

/**
 * The command a command line names (following groups into their subcommands), its path
 * (`keys create`) and the arguments left for it once its name words are removed.
 */
export function findCommand(argv: string[]): { command: Command; path: string; rest: string[] } | null {
  const named = words(argv);
  if (named.length === 0) return null;
  let within: readonly Command[] = COMMANDS;
  let command: Command | undefined;
  const path: string[] = [];
  const used: number[] = [];
  for (const { word, index } of named) {
    const next = within.find((c) => c.name === word);
    if (!next) {
      if (!command) throw unknownCommand(word, within, "");
      if (command.subcommands) {
        // A group's word is a subcommand, or an argument of its default subcommand when that takes one.
        const fallback = command.subcommands.find((c) => c.name === command!.defaultSubcommand);
        const names = within.map((c) => c.name);
        // `dead-letters --limit 5`: the word is a flag's value, and the default subcommand runs.
        const flagValue = fallback !== undefined && takesValue(fallback, argv[index - 1]);
        if (!flagValue && (!fallback?.args?.length || closestName(word, names) !== null)) throw unknownCommand(word, within, path.join(" "));
      }
      break;
    }
    command = next;
    path.push(word);
    used.push(index);
    if (!next.subcommands) break;
    within = next.subcommands;
  }
  if (command?.subcommands && command.defaultSubcommand !== undefined) {
    const fallback = command.subcommands.find((c) => c.name === command!.defaultSubcommand)!;
    return { command: fallback, path: `${path.join(" ")} ${fallback.name}`, rest: argv.filter((_, i) => !used.includes(i)) };
  }
  return { command: command!, path: path.join(" "), rest: argv.filter((_, i) => !used.includes(i)) };
}

/** The help for a command line (`keys create`), the root help when it names no command. */
function helpFor(argv: string[], env: NodeJS.ProcessEnv): string {
  const found = findCommand(argv);
  if (!found) return helpText(env);
  // `keys --help` and `help keys` show the group, not its default subcommand.
  const group = COMMANDS.find((c) => c.name === found.path.split(" ")[0] && c.subcommands && found.path === `${c.name} ${c.defaultSubcommand}`);
  const shown = group && words(argv).length === 1 ? group : found.command;
  return commandHelp(shown, shown === group ? group.name : found.path);
}

/** Runs one command line; returns the exit code. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv, out: Output): Promise<number> {
  let config: CliConfig | null = null;
  // Only the global flags are read here (leniently); each command parses all of its own.
  const { values } = parseArgs({ args: argv, options: { ...GLOBAL_OPTIONS, version: { type: "boolean" } }, allowPositionals: true, strict: false });
  const json = values.json === true || typeof values.jq === "string";
  let path: string | null = null;
  try {
    if (values.version === true && words(argv).length === 0) {
      out.line(`codeforge ${VERSION}`);
      return EXIT.ok;
    }
    const named = words(argv);
    if (named[0]?.word === "help") {
      const asked = argv.filter((_, i) => i !== named[0]!.index);
      out.line(helpFor(asked, env));
      return EXIT.ok;
    }
    const found = findCommand(argv);
    if (!found) {
      out.line(helpText(env));
      return values.help ? EXIT.ok : EXIT.usage;
    }
    if (values.help) {
      out.line(helpFor(argv, env));
      return EXIT.ok;
    }
    path = found.path;
    if (!found.command.run) {
      out.error(commandHelp(found.command, found.path));
      return EXIT.usage;
    }
    let client: ApiClient | null = null;
    const shown = { ...out, color: out.color && !values["no-color"] };
    // --jq: compiled before the command runs; each JSON document it prints is filtered.
    const jq = typeof values.jq === "string" ? await jqOutput(values.jq, shown, (err) => reportError(err, config, out, { json })) : null;
    const ctx: CommandContext = {
      out: jq?.out ?? shown,
      client: () => {
        if (client) return client;
        const str = (v: unknown) => (typeof v === "string" ? v : undefined);
        config = resolveConfig({ flags: { url: str(values.url), key: str(values.key), config: str(values.config) }, env });
        return (client = new ApiClient({ baseUrl: config.url, apiKey: config.apiKey }));
      },
    };
    const code = await found.command.run(found.rest, ctx);
    return jq ? jq.exitCode(code) : code;
  } catch (err) {
    if (err instanceof UsageError && err.hint === undefined && path !== null) err.hint = `codeforge ${path} --help shows its flags and examples`;
    return reportError(err, config, out, { json });
  }
}
