/**
 * `codeforge`: the command-line client for the CodeForge API.
 *
 * The only place that reads `process.argv` and `process.env` (handed in by bin/codeforge.js)
 * and builds the real client; commands receive it through their context, so the tests run the
 * real binary against a real edge and read what it printed and how it exited.
 * @module
 */
import { parseArgs } from "node:util";
import { ApiClient } from "../api-client.js";
import { defaultConfigPath, DEFAULT_URL, resolveConfig, type CliConfig } from "./cli-config.js";
import { GLOBAL_OPTIONS, GLOBAL_VALUE_FLAGS, type Command, type CommandContext } from "./command.js";
import { COMMANDS } from "./command-registry.js";
import { reportError } from "./error-report.js";
import { EXIT, EXIT_CODES_HELP, UsageError } from "./exit-codes.js";
import type { Output } from "./output.js";

/** A command's usage lines; continuation lines (starting with a space) are indented under it. */
const usageLines = (command: Command) => command.usage.map((line) => (line.startsWith(" ") ? `            ${line.trimStart()}` : `  codeforge ${line}`));

/** `codeforge --help`. */
export function helpText(env: NodeJS.ProcessEnv = {}): string {
  return `codeforge — run AI coding CLIs on your repositories through CodeForge

Usage: codeforge [connection flags] <command> [flags]

${COMMANDS.flatMap(usageLines).join("\n")}

Every command takes --json (machine-readable output; errors as one JSON line on stderr)
and -h/--help.

Connection (a flag, else the environment, else the config file):
  --url <url>      CODEFORGE_URL       the edge's base URL (default ${DEFAULT_URL})
  --key <key>      CODEFORGE_API_KEY   an API key (Authorization: Bearer)
  --config <file>  CODEFORGE_CONFIG    JSON {"url": "...", "api_key": "..."}; default
                                       ${defaultConfigPath(env)}; must be chmod 600 when it holds a key
  --no-color       (also NO_COLOR)

${EXIT_CODES_HELP}`;
}

/** The command name: the first argument that is neither a global flag nor a global flag's value. */
function splitCommand(argv: string[]): { name: string | undefined; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") return { name: argv[i + 1], rest: [...argv.slice(0, i), ...argv.slice(i + 2)] };
    if (!arg.startsWith("-")) return { name: arg, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
    if (GLOBAL_VALUE_FLAGS.includes(arg)) i++;
  }
  return { name: undefined, rest: argv };
}

/** Runs one command line; returns the exit code. */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv, out: Output): Promise<number> {
  let config: CliConfig | null = null;
  // Only the global flags are read here (leniently); each command parses all of its own.
  const { values } = parseArgs({ args: argv, options: GLOBAL_OPTIONS, allowPositionals: true, strict: false });
  try {
    const { name, rest } = splitCommand(argv);
    const command = COMMANDS.find((c) => c.name === name);
    if (name === undefined || name === "help") {
      out.line(helpText(env));
      return name === undefined && !values.help ? EXIT.usage : EXIT.ok;
    }
    if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}; the commands are ${COMMANDS.map((c) => c.name).join(", ")}`);
    if (values.help) {
      out.line(`Usage:\n${usageLines(command).join("\n")}\n\nSee codeforge --help for connection flags and exit codes.`);
      return EXIT.ok;
    }
    let client: ApiClient | null = null;
    const ctx: CommandContext = {
      out: { ...out, color: out.color && !values["no-color"] },
      client: () => {
        if (client) return client;
        const str = (v: unknown) => (typeof v === "string" ? v : undefined);
        config = resolveConfig({ flags: { url: str(values.url), key: str(values.key), config: str(values.config) }, env });
        return (client = new ApiClient({ baseUrl: config.url, apiKey: config.apiKey }));
      },
    };
    return await command.run(rest, ctx);
  } catch (err) {
    return reportError(err, config, out, { json: values.json === true });
  }
}
