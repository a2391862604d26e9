/**
 * Unit: the `codeforge` help, as the binary prints it. Every command's and subcommand's
 * `--help` and the root help are kept as file snapshots (`__snapshots__/help/`), so a change to
 * any of them shows up in review; and the declarations they are drawn from are held to what
 * help promises: every command and flag described, every command with an example that really
 * parses, no flag shadowing a global one, no short flag used twice.
 */
import { describe, expect, it } from "vitest";
import { GLOBAL_OPTIONS, parseFlags, type Command, type FlagSpec } from "../../client/cli/command.js";
import { COMMANDS } from "../../client/cli/command-registry.js";
import { findCommand, runCli } from "../../client/cli/main.js";

/** The environment help is rendered in, so the config path shown is not this machine's. */
const ENV = { HOME: "/home/you" };

interface Listed {
  path: string;
  command: Command;
}

/** Every command and subcommand, with its path (`keys create`). */
function allCommands(commands: readonly Command[] = COMMANDS, parent = ""): Listed[] {
  return commands.flatMap((command) => {
    const path = parent ? `${parent} ${command.name}` : command.name;
    return [{ path, command }, ...allCommands(command.subcommands ?? [], path)];
  });
}

const ALL = allCommands();
const LEAVES = ALL.filter(({ command }) => !command.subcommands);

/** What `codeforge <argv>` prints, its exit code and anything it wrote to stderr. */
async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runCli(argv, ENV, { line: (t) => stdout.push(t), error: (t) => stderr.push(t), color: false });
  return { code, stdout: stdout.join("\n"), stderr: stderr.join("\n") };
}

/** What ends a command's arguments in a shell line (a redirection's file is no argument either). */
const SHELL_OPERATOR = /^(?:[$<]\(|\)|&&|\|\||\||;|\d?>>?|<)$/;

/** Shell words of one line: quotes kept together; operators (`|`, `;`, `&&`, `$(`, `<(`, `)`, redirections) as their own words. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const pattern = /[$<]\(|\)|&&|\|\||[|;]|\d?>>?|<|"((?:[^"\\]|\\.)*)"|'([^']*)'|(?:[^\s|;&()"'$<>]|\$(?!\())+/g;
  let word = "";
  let last = 0;
  for (const match of line.matchAll(pattern)) {
    const gap = line.slice(last, match.index);
    if (/\s/.test(gap) && word) words.push(word), (word = "");
    last = match.index + match[0].length;
    const token = match[0];
    if (SHELL_OPERATOR.test(token)) {
      if (word) words.push(word), (word = "");
      words.push(token);
    } else word += match[1] ?? match[2] ?? token;
  }
  if (word) words.push(word);
  return words;
}

/** The arguments of every `codeforge …` invocation in a shell line (pipes and `$(…)` included). */
function invocations(line: string): string[][] {
  const found: string[][] = [];
  let current: string[] | null = null;
  for (const word of shellWords(line)) {
    if (SHELL_OPERATOR.test(word)) {
      if (current) found.push(current);
      current = null;
    } else if (current) current.push(word);
    else if (word === "codeforge") current = [];
  }
  if (current) found.push(current);
  return found;
}

/** The example lines of a command's help, without `$ ` and comments. */
function exampleLines(help: string): string[] {
  const section = /\nEXAMPLES\n((?: {2}.*\n?)*)/.exec(help)?.[1] ?? "";
  return section
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("$ "))
    .map((l) => l.slice(2));
}

describe("help snapshots", () => {
  it("prints the root help for --help, with exit 0", async () => {
    const { code, stdout, stderr } = await run(["--help"]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toContain("/home/you/.config/codeforge/config.json");
    await expect(`${stdout}\n`).toMatchFileSnapshot("__snapshots__/help/codeforge.txt");
  });

  it.each(ALL.map(({ path }) => [path]))("prints the help of %s for --help, the same as codeforge help", async (path) => {
    const words = path.split(" ");
    const shown = await run([...words, "--help"]);
    expect({ code: shown.code, stderr: shown.stderr }).toEqual({ code: 0, stderr: "" });
    expect((await run(["help", ...words])).stdout).toBe(shown.stdout);
    await expect(`${shown.stdout}\n`).toMatchFileSnapshot(`__snapshots__/help/${words.join("/")}.txt`);
  });
});

describe("help declarations", () => {
  it("describes every command in one lower-case line with no full stop", () => {
    const problems: string[] = [];
    for (const { path, command } of ALL) {
      if (!/^[a-z][^\n]*[^.\s]$/.test(command.summary)) problems.push(`${path}: summary ${JSON.stringify(command.summary)}`);
      if (command.usage.length === 0) problems.push(`${path}: no usage`);
      // A group's default subcommand may be left out: `deliveries [list] <task-id>`.
      for (const usage of command.usage) if (!usage.replace(/^(\S+) \[(\S+)\]/, "$1 $2").startsWith(path)) problems.push(`${path}: usage ${usage}`);
    }
    expect(problems).toEqual([]);
  });

  it("describes every flag, the command's own and the global ones, in one line starting with a capital", () => {
    const flags = Object.entries(GLOBAL_OPTIONS).map(([name, spec]): [string, string, FlagSpec] => ["(global)", name, spec]);
    for (const { path, command } of ALL) for (const [name, spec] of Object.entries(command.flags)) flags.push([path, name, spec]);
    const problems: string[] = [];
    for (const [path, name, spec] of flags) {
      if (!/^[A-Z0-9`-][^\n]*[^.\s]$/.test(spec.description)) problems.push(`${path} --${name}: ${JSON.stringify(spec.description)}`);
      if (spec.type === "string" && !/^<[^<>\s]+>$/.test(spec.value ?? "<value>")) problems.push(`${path} --${name}: value ${spec.value}`);
    }
    expect(problems).toEqual([]);
  });

  it("gives every command that runs at least one example, and groups none that cannot run", () => {
    const problems: string[] = [];
    for (const { path, command } of LEAVES) {
      if (typeof command.run !== "function") problems.push(`${path} cannot run`);
      if (!command.examples?.some((e) => !e.startsWith("#"))) problems.push(`${path} has no example`);
    }
    expect(problems).toEqual([]);
  });

  it("names in every example a real command and only flags that command takes", async () => {
    const lines = exampleLines((await run(["--help"])).stdout).map((line): [string, string] => ["codeforge", line]);
    for (const { path, command } of LEAVES) for (const line of command.examples ?? []) if (!line.startsWith("#")) lines.push([path, line]);
    const problems: string[] = [];
    for (const [where, line] of lines) {
      const calls = invocations(line);
      if (calls.length === 0) problems.push(`${where}: ${line}: runs no codeforge command`);
      for (const argv of calls) {
        try {
          const found = findCommand(argv);
          if (!found?.command.run) throw new Error("names no command that runs");
          const { positionals } = parseFlags(found.rest, found.command.flags);
          const variadic = found.command.usage.some((u) => /\.\.\.|…/.test(u));
          if (!variadic && positionals.length > (found.command.args?.length ?? 0)) throw new Error(`passes more arguments than ${found.path} takes`);
        } catch (err) {
          problems.push(`${where}: ${line}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it("lets no command's flag shadow a global flag, and uses each short flag once per command", () => {
    const globals = new Set([...Object.keys(GLOBAL_OPTIONS), "version"]);
    const problems: string[] = [];
    for (const { path, command } of ALL) {
      for (const name of Object.keys(command.flags)) if (globals.has(name)) problems.push(`${path} --${name} is a global flag`);
      const shorts = Object.values<FlagSpec>({ ...GLOBAL_OPTIONS, ...command.flags }).flatMap((spec) => (spec.short ? [spec.short] : []));
      for (const short of new Set(shorts)) if (shorts.filter((s) => s === short).length > 1) problems.push(`${path}: -${short} is used twice`);
    }
    expect(problems).toEqual([]);
  });

  it("reads examples as the shell does", () => {
    expect(invocations(`git diff | codeforge followup tsk_1 --prompt "a b" --follow`)).toEqual([["followup", "tsk_1", "--prompt", "a b", "--follow"]]);
    expect(invocations("export X=$(codeforge runner-credential --pool gpu)")).toEqual([["runner-credential", "--pool", "gpu"]]);
    expect(invocations("codeforge diff tsk_1 | git apply")).toEqual([["diff", "tsk_1"]]);
    expect(invocations("codeforge keys list --jq '.keys[] | .id'")).toEqual([["keys", "list", "--jq", ".keys[] | .id"]]);
    expect(invocations("source <(codeforge completion bash)")).toEqual([["completion", "bash"]]);
    expect(invocations("codeforge completion fish > ~/.config/fish/completions/codeforge.fish")).toEqual([["completion", "fish"]]);
    expect(invocations('codeforge submit -p "a > b" 2>/dev/null')).toEqual([["submit", "-p", "a > b"]]);
  });
});
