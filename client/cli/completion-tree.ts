/**
 * What shell completion offers, flattened from the command tree: one `CompletionNode` per
 * command path (`""`, `tasks`, `keys`, `keys create`, …) with its subcommands, its flags and the
 * values they take, and its positional arguments' kinds. `completion-scripts.ts` writes each
 * shell's script from these; `completion.ts` is the command that prints one.
 * @module
 */
import { GLOBAL_OPTIONS, type Command, type FlagSpec, type FlagSpecs } from "./command.js";

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

export interface CompletionFlag {
  /** `--status`, and `-h` for a flag with a short form. */
  names: string[];
  description: string;
  takesValue: boolean;
  /** What its value completes to: fixed words (its `choices`), file names, or nothing offered. */
  values: readonly string[] | "file" | null;
}

export interface CompletionNode {
  /** The command words after `codeforge`: `""` for the root, `keys create`. */
  path: string;
  subcommands: { name: string; summary: string }[];
  /** The path's own flags (a group's include its default subcommand's); `GLOBAL_FLAGS` are on every path. */
  flags: CompletionFlag[];
  /** Its positional arguments' kinds, in order (`task-id`, …): see `ARG_VALUES`. */
  args: string[];
}

/** What a positional argument of each kind completes to: fixed words, or what a `codeforge` command line prints. */
export const ARG_VALUES: Record<string, { words: readonly string[] } | { command: string[] }> = {
  "task-id": { command: ["tasks", "--jq", ".tasks[].id"] },
  "key-id": { command: ["keys", "list", "--jq", ".keys[].id"] },
  "dead-letter-id": { command: ["dead-letters", "--jq", ".dead_letters[].delivery_id"] },
  shell: { words: SHELLS },
};

function completionFlags(flags: FlagSpecs): CompletionFlag[] {
  return Object.entries(flags).map(([name, spec]: [string, FlagSpec]) => ({
    names: spec.short ? [`--${name}`, `-${spec.short}`] : [`--${name}`],
    description: spec.description,
    takesValue: spec.type === "string",
    values: spec.choices ?? (spec.type === "string" && spec.value?.includes("file") ? "file" : null),
  }));
}

/** The flags every path takes. */
export const GLOBAL_FLAGS: CompletionFlag[] = completionFlags(GLOBAL_OPTIONS);

/** One node per command path, the root first. */
export function completionTree(commands: readonly Command[]): CompletionNode[] {
  const nodes: CompletionNode[] = [
    {
      path: "",
      subcommands: [...commands.map((c) => ({ name: c.name, summary: c.summary })), { name: "help", summary: "show help for a command" }],
      flags: completionFlags({ version: { type: "boolean", description: "Show the codeforge version" } }),
      args: [],
    },
    { path: "help", subcommands: commands.map((c) => ({ name: c.name, summary: c.summary })), flags: [], args: [] },
  ];
  const visit = (command: Command, parent: string) => {
    const path = parent ? `${parent} ${command.name}` : command.name;
    const fallback = command.subcommands?.find((c) => c.name === command.defaultSubcommand);
    nodes.push({
      path,
      subcommands: (command.subcommands ?? []).map((c) => ({ name: c.name, summary: c.summary })),
      flags: completionFlags({ ...command.flags, ...fallback?.flags }),
      args: command.args ?? fallback?.args ?? [],
    });
    for (const sub of command.subcommands ?? []) visit(sub, path);
  };
  for (const command of commands) visit(command, "");
  return nodes;
}
