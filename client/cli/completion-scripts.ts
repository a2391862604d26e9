/**
 * The completion scripts, one per shell, written from the flattened command tree
 * (`completion-tree.ts`). Each has the same parts: lookup functions generated from the tree
 * (a path's subcommands, its flags, which flags take a value, the values a flag or a positional
 * argument takes) and one hand-written function that walks the words typed so far — following
 * subcommands, skipping flags and their values, counting positional arguments — and offers what
 * fits where the cursor is.
 * @module
 */
import { ARG_VALUES, GLOBAL_FLAGS, type CompletionFlag, type CompletionNode } from "./completion-tree.js";

/** A single-quoted bash or zsh word. */
const sq = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
/** A single-quoted fish word. */
const fq = (text: string) => `'${text.replace(/[\\']/g, (c) => `\\${c}`)}'`;

const valueFlagNames = (flags: CompletionFlag[]) => flags.filter((f) => f.takesValue).flatMap((f) => f.names);

/** `[pattern, values]` for every flag whose value completes: `path|--flag`, `*|--flag` for the global ones. */
function flagValueRules(nodes: CompletionNode[]): [string, readonly string[] | "file"][] {
  const rules: [string, readonly string[] | "file"][] = [];
  for (const node of nodes) for (const flag of node.flags) if (flag.values) for (const name of flag.names) rules.push([`${node.path}|${name}`, flag.values]);
  for (const flag of GLOBAL_FLAGS) if (flag.values) for (const name of flag.names) rules.push([`*|${name}`, flag.values]);
  return rules;
}

/** A `case` statement's arms (bash, zsh): `pattern) body ;;`, `*` in a pattern left unquoted. */
function arms(rows: [string, string][]): string {
  return rows.map(([pattern, body]) => `    ${pattern.split("*").map(sq).join("*").replace(/^''\*/, "*")}) ${body} ;;`).join("\n");
}

/** The ids and words positional arguments complete to, calling `$prog` (the `codeforge` being completed) for ids. */
function argValueArms(shell: "bash" | "zsh"): string {
  return arms(
    Object.entries(ARG_VALUES).map(([kind, values]) => {
      if ("words" in values) return [kind, shell === "zsh" ? `reply=(${values.words.map(sq).join(" ")})` : `echo ${sq(values.words.join(" "))}`];
      const run = `"$2" ${values.command.map(sq).join(" ")} 2>/dev/null`;
      return [kind, shell === "zsh" ? `reply=(\${(f)"$(${run})"})` : run];
    }),
  );
}

const INSTALL = {
  bash: "# Load it in this shell: source <(codeforge completion bash); in every shell: add that line to ~/.bashrc.",
  zsh: "# Load it in this shell (after compinit): source <(codeforge completion zsh); in every shell: add that line\n# to ~/.zshrc, or save this script as _codeforge in a directory of your $fpath.",
  fish: "# Install: codeforge completion fish > ~/.config/fish/completions/codeforge.fish",
};

export function bashScript(nodes: CompletionNode[]): string {
  const values = flagValueRules(nodes).map(([pattern, v]): [string, string] => [pattern, v === "file" ? "echo __file__" : `echo ${sq(v.join(" "))}`]);
  return `# bash completion for codeforge, generated from its commands by \`codeforge completion bash\`.
${INSTALL.bash}

_codeforge_subcommands() {
  case "$1" in
${arms(nodes.filter((n) => n.subcommands.length).map((n) => [n.path, `echo ${sq(n.subcommands.map((s) => s.name).join(" "))}`]))}
  esac
}
_codeforge_flags() {
  echo ${sq(GLOBAL_FLAGS.flatMap((f) => f.names).join(" "))}
  case "$1" in
${arms(nodes.filter((n) => n.flags.length).map((n) => [n.path, `echo ${sq(n.flags.flatMap((f) => f.names).join(" "))}`]))}
  esac
}
_codeforge_value_flags() {
  echo ${sq(valueFlagNames(GLOBAL_FLAGS).join(" "))}
  case "$1" in
${arms(nodes.filter((n) => valueFlagNames(n.flags).length).map((n) => [n.path, `echo ${sq(valueFlagNames(n.flags).join(" "))}`]))}
  esac
}
_codeforge_flag_values() {
  case "$1|$2" in
${arms(values)}
  esac
}
_codeforge_args() {
  case "$1" in
${arms(nodes.filter((n) => n.args.length).map((n) => [n.path, `echo ${sq(n.args.join(" "))}`]))}
  esac
}
_codeforge_arg_values() {
  case "$1" in
${argValueArms("bash")}
  esac
}

_codeforge() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmdpath='' valueof='' word values i n=0
  local -a kinds
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    if [[ $word == -* ]]; then
      values=$(_codeforge_value_flags "$cmdpath")
      if [[ " \${values//$'\\n'/ } " == *" $word "* ]]; then
        if ((i + 1 == COMP_CWORD)); then valueof=$word; break; fi
        i=$((i + 1))
      fi
    elif ((n == 0)) && [[ " $(_codeforge_subcommands "$cmdpath") " == *" $word "* ]]; then
      cmdpath=\${cmdpath:+$cmdpath }$word
    else
      n=$((n + 1))
    fi
  done
  COMPREPLY=()
  if [[ -n $valueof ]]; then
    values=$(_codeforge_flag_values "$cmdpath" "$valueof")
    if [[ $values == __file__ ]]; then
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    else
      mapfile -t COMPREPLY < <(compgen -W "$values" -- "$cur")
    fi
  elif [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_codeforge_flags "$cmdpath")" -- "$cur")
  elif values=$(_codeforge_subcommands "$cmdpath") && ((n == 0)) && [[ -n $values ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$values" -- "$cur")
  else
    read -r -a kinds <<<"$(_codeforge_args "$cmdpath")"
    if ((n < \${#kinds[@]})); then
      mapfile -t COMPREPLY < <(compgen -W "$(_codeforge_arg_values "\${kinds[n]}" "\${COMP_WORDS[0]}")" -- "$cur")
    fi
  fi
  return 0
}
complete -F _codeforge codeforge
`;
}

export function zshScript(nodes: CompletionNode[]): string {
  const described = (rows: { name: string; text: string }[]) => rows.map((r) => sq(`${r.name.replace(/:/g, "\\:")}:${r.text}`)).join(" ");
  const flagRows = (flags: CompletionFlag[]) => flags.flatMap((f) => f.names.map((name) => ({ name, text: f.description })));
  const values = flagValueRules(nodes).map(([pattern, v]): [string, string] => [pattern, v === "file" ? "reply=(__file__)" : `reply=(${v.map(sq).join(" ")})`]);
  return `#compdef codeforge
# zsh completion for codeforge, generated from its commands by \`codeforge completion zsh\`.
${INSTALL.zsh}

_codeforge_subcommands() {
  reply=()
  case "$1" in
${arms(nodes.filter((n) => n.subcommands.length).map((n) => [n.path, `reply=(${described(n.subcommands.map((s) => ({ name: s.name, text: s.summary })))})`]))}
  esac
}
_codeforge_flags() {
  reply=()
  case "$1" in
${arms(nodes.filter((n) => n.flags.length).map((n) => [n.path, `reply=(${described(flagRows(n.flags))})`]))}
  esac
  reply+=(${described(flagRows(GLOBAL_FLAGS))})
}
_codeforge_value_flags() {
  reply=(${valueFlagNames(GLOBAL_FLAGS).map(sq).join(" ")})
  case "$1" in
${arms(nodes.filter((n) => valueFlagNames(n.flags).length).map((n) => [n.path, `reply+=(${valueFlagNames(n.flags).map(sq).join(" ")})`]))}
  esac
}
_codeforge_flag_values() {
  reply=()
  case "$1|$2" in
${arms(values)}
  esac
}
_codeforge_args() {
  reply=()
  case "$1" in
${arms(nodes.filter((n) => n.args.length).map((n) => [n.path, `reply=(${n.args.map(sq).join(" ")})`]))}
  esac
}
_codeforge_arg_values() {
  reply=()
  case "$1" in
${argValueArms("zsh")}
  esac
}

_codeforge() {
  local cmdpath='' valueof='' word cur=\${words[CURRENT]}
  local -i i n=0
  local -a reply kinds names
  for ((i = 2; i < CURRENT; i++)); do
    word=\${words[i]}
    if [[ $word == -* ]]; then
      _codeforge_value_flags "$cmdpath"
      if ((\${reply[(Ie)$word]})); then
        if ((i + 1 == CURRENT)); then valueof=$word; break; fi
        i+=1
      fi
      continue
    fi
    _codeforge_subcommands "$cmdpath"
    names=(\${reply%%:*})
    if ((n == 0 && \${names[(Ie)$word]})); then
      cmdpath=\${cmdpath:+$cmdpath }$word
    else
      n+=1
    fi
  done
  if [[ -n $valueof ]]; then
    _codeforge_flag_values "$cmdpath" "$valueof"
    if [[ $reply == __file__ ]]; then _files; else compadd -a reply; fi
  elif [[ $cur == -* ]]; then
    _codeforge_flags "$cmdpath"
    _describe -t flags flag reply
  else
    _codeforge_subcommands "$cmdpath"
    if ((n == 0 && \${#reply})); then
      _describe -t commands command reply
    else
      _codeforge_args "$cmdpath"
      kinds=($reply)
      if ((n < \${#kinds})); then
        _codeforge_arg_values "\${kinds[n + 1]}" "\${words[1]}"
        compadd -a reply
      fi
    fi
  fi
}

if [[ \${funcstack[1]} == _codeforge ]]; then _codeforge "$@"; else compdef _codeforge codeforge; fi
`;
}

export function fishScript(nodes: CompletionNode[]): string {
  const cases = (rows: [string, string[]][]) =>
    rows.map(([pattern, lines]) => `        case ${fq(pattern)}\n${lines.map((l) => `            ${l}`).join("\n")}`).join("\n");
  const described = (rows: { name: string; text: string }[]) => `printf '%s\\t%s\\n' ${rows.map((r) => `${fq(r.name)} ${fq(r.text)}`).join(" ")}`;
  const words = (list: readonly string[]) => `printf '%s\\n' ${list.map(fq).join(" ")}`;
  const flagRows = (flags: CompletionFlag[]) => flags.flatMap((f) => f.names.map((name) => ({ name, text: f.description })));
  const argValues = Object.entries(ARG_VALUES).map(([kind, v]): [string, string[]] => [
    kind,
    ["words" in v ? words(v.words) : `$argv[2] ${v.command.map(fq).join(" ")} 2>/dev/null`],
  ]);
  return `# fish completion for codeforge, generated from its commands by \`codeforge completion fish\`.
${INSTALL.fish}

function __codeforge_subcommands
    switch "$argv[1]"
${cases(nodes.filter((n) => n.subcommands.length).map((n) => [n.path, [described(n.subcommands.map((s) => ({ name: s.name, text: s.summary })))]]))}
    end
end
function __codeforge_flags
    ${described(flagRows(GLOBAL_FLAGS))}
    switch "$argv[1]"
${cases(nodes.filter((n) => n.flags.length).map((n) => [n.path, [described(flagRows(n.flags))]]))}
    end
end
function __codeforge_value_flags
    ${words(valueFlagNames(GLOBAL_FLAGS))}
    switch "$argv[1]"
${cases(nodes.filter((n) => valueFlagNames(n.flags).length).map((n) => [n.path, [words(valueFlagNames(n.flags))]]))}
    end
end
function __codeforge_flag_values
    switch "$argv[1]|$argv[2]"
${cases(flagValueRules(nodes).map(([pattern, v]) => [pattern, [v === "file" ? "echo __file__" : words(v)]]))}
    end
end
function __codeforge_args
    switch "$argv[1]"
${cases(nodes.filter((n) => n.args.length).map((n) => [n.path, [words(n.args)]]))}
    end
end
function __codeforge_arg_values
    switch "$argv[1]"
${cases(argValues)}
    end
end

function __codeforge_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -l cmdpath ''
    set -l valueof ''
    set -l n 0
    set -l i 2
    while test $i -le (count $words)
        set -l word $words[$i]
        if string match -q -- '-*' $word
            if contains -- $word (__codeforge_value_flags "$cmdpath")
                if test $i -eq (count $words)
                    set valueof $word
                    break
                end
                set i (math $i + 1)
            end
        else if test $n -eq 0; and contains -- $word (__codeforge_subcommands "$cmdpath" | string replace -r '\\t.*' '')
            set cmdpath (string trim -- "$cmdpath $word")
        else
            set n (math $n + 1)
        end
        set i (math $i + 1)
    end
    set -l subcommands (__codeforge_subcommands "$cmdpath")
    if test -n "$valueof"
        set -l values (__codeforge_flag_values "$cmdpath" $valueof)
        if test "$values" = __file__
            __fish_complete_path $cur
        else
            printf '%s\\n' $values
        end
    else if string match -q -- '-*' $cur
        __codeforge_flags "$cmdpath"
    else if test $n -eq 0 -a (count $subcommands) -gt 0
        printf '%s\\n' $subcommands
    else
        set -l kinds (__codeforge_args "$cmdpath")
        if test $n -lt (count $kinds)
            __codeforge_arg_values $kinds[(math $n + 1)] $words[1]
        end
    end
end

complete -c codeforge -f -a '(__codeforge_complete)'
`;
}
