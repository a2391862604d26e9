/**
 * `codeforge --help`, `codeforge help <command>` and `codeforge <command> --help`, drawn from the
 * commands' own declarations (summary, usage, flags, examples), laid out as `gh` does.
 * @module
 */
import { defaultConfigPath, DEFAULT_URL } from "./cli-config.js";
import { GLOBAL_OPTIONS, type Command, type FlagSpec, type FlagSpecs } from "./command.js";
import { EXIT_CODES_HELP } from "./exit-codes.js";

/** `  -f, --follow` / `      --repo <url>`: the flag's left column. */
function flagName(name: string, spec: FlagSpec): string {
  const short = spec.short ? `-${spec.short}, ` : "    ";
  const value = spec.type === "string" ? ` ${spec.value ?? "<value>"}` : "";
  return `${short}--${name}${value}`;
}

/** A flag's description with its choices, its default and whether it repeats. */
function flagText(spec: FlagSpec): string {
  const notes: string[] = [];
  if (spec.choices) notes.push(`one of: ${spec.choices.join(", ")}`);
  if (typeof spec.default === "string") notes.push(`default ${spec.default}`);
  if (spec.multiple) notes.push("repeatable");
  return notes.length ? `${spec.description} (${notes.join("; ")})` : spec.description;
}

/** Aligned two-column lines, indented by two spaces. */
function columns(rows: [string, string][]): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`.trimEnd());
}

function flagLines(flags: FlagSpecs): string[] {
  return columns(Object.entries(flags).map(([name, spec]) => [flagName(name, spec), flagText(spec)]));
}

/** `text` broken into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join("\n");
}

/** `codeforge --help`: every command with its summary, the connection flags, the exit codes. */
export function rootHelp(commands: readonly Command[], env: NodeJS.ProcessEnv = {}): string {
  return `Run AI coding CLIs on your repositories through CodeForge.

USAGE
  codeforge <command> [flags]

COMMANDS
${columns(commands.map((c) => [`${c.name}:`, c.summary])).join("\n")}

FLAGS (every command)
${flagLines({ ...GLOBAL_OPTIONS, version: { type: "boolean", description: "Show the codeforge version" } }).join("\n")}

CONNECTION
  A flag, else the environment, else the config file:
  --url     CODEFORGE_URL       default ${DEFAULT_URL}
  --key     CODEFORGE_API_KEY
  --config  CODEFORGE_CONFIG    default ${defaultConfigPath(env)}; chmod 600 when it holds a key

EXAMPLES
  $ codeforge submit --prompt "Fix the failing test" --follow
  $ codeforge tasks --status running
  $ codeforge diff tsk_01J9Z8Q4 | git apply

LEARN MORE
  codeforge help <command>      a command's flags and examples
  codeforge completion <shell>  completion for bash, zsh or fish

${EXIT_CODES_HELP}`;
}

/** `codeforge <command> --help` (for a group, its subcommands). */
export function commandHelp(command: Command, path: string): string {
  const parts = [command.summary.charAt(0).toUpperCase() + command.summary.slice(1)];
  if (command.description) parts.push(wrap(command.description, 80));
  parts.push(`USAGE\n${command.usage.map((u) => `  codeforge ${u}`).join("\n")}`);
  if (command.subcommands?.length) {
    parts.push(`COMMANDS\n${columns(command.subcommands.map((c) => [`${c.name}:`, c.summary])).join("\n")}`);
  }
  if (Object.keys(command.flags).length) parts.push(`FLAGS\n${flagLines(command.flags).join("\n")}`);
  parts.push(
    `INHERITED FLAGS\n${columns([
      ["--json, --jq <expression>", "Machine-readable output, filtered with jq"],
      ["--url, --key, --config", "Where the edge is and which key to use"],
      ["-h, --help", "Show this help"],
    ]).join("\n")}`,
  );
  if (command.examples?.length) {
    parts.push(`EXAMPLES\n${command.examples.map((e) => (e.startsWith("#") ? `  ${e}` : `  $ ${e}`)).join("\n")}`);
  }
  const more: [string, string][] = command.subcommands?.length ? [[`codeforge ${path} <command> --help`, "a command's flags and examples"]] : [];
  parts.push(`LEARN MORE\n${columns([...more, ["codeforge --help", "every command, connection settings and exit codes"]]).join("\n")}`);
  return parts.join("\n\n");
}
