/**
 * `codeforge completion <bash|zsh|fish>`: a completion script for the shell, drawn from the same
 * declarations as `--help` (commands, subcommands, flags and their `choices`), so completion
 * cannot fall behind the commands. Task and key ids complete from the edge, by running
 * `codeforge tasks --jq …` and `codeforge keys list --jq …` with the user's own settings.
 * @module
 */
import { parseFlags, positionals, type Command } from "./command.js";
import { bashScript, fishScript, zshScript } from "./completion-scripts.js";
import { completionTree, SHELLS, type Shell } from "./completion-tree.js";
import { UsageError } from "./exit-codes.js";

/** The script for `shell`. */
export function completionScript(shell: Shell, commands: readonly Command[]): string {
  const nodes = completionTree(commands);
  if (shell === "bash") return bashScript(nodes);
  if (shell === "zsh") return zshScript(nodes);
  return fishScript(nodes);
}

/** The `completion` command; `commands` gives the registry it completes (itself included). */
export function completionCommand(commands: () => readonly Command[]): Command {
  return {
    name: "completion",
    summary: "print a shell completion script for bash, zsh or fish",
    usage: ["completion <bash|zsh|fish>"],
    description: `Completes commands, subcommands, flags and the values flags accept; task and key ids come
from the edge (through codeforge tasks and codeforge keys, with your usual URL and key).

To load it in every new shell:
  bash  add to ~/.bashrc:  source <(codeforge completion bash)
  zsh   add to ~/.zshrc (after compinit):  source <(codeforge completion zsh)
        or write it as _codeforge into a directory of your $fpath
  fish  codeforge completion fish > ~/.config/fish/completions/codeforge.fish`,
    flags: {},
    args: ["shell"],
    examples: ["# Try it in this bash session", "source <(codeforge completion bash)", "codeforge completion fish > ~/.config/fish/completions/codeforge.fish"],
    async run(argv, ctx) {
      const { positionals: given } = parseFlags(argv, {});
      const [shell] = positionals("completion", given, ["shell"]);
      if (!SHELLS.includes(shell as Shell)) throw new UsageError(`completion: unknown shell ${JSON.stringify(shell)}: one of ${SHELLS.join(", ")}`);
      ctx.out.line(completionScript(shell as Shell, commands()));
      return 0;
    },
  };
}
