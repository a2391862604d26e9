/**
 * `codeforge completion <shell>`, run as the real binary: the bash script sourced in a real bash
 * and asked what it completes, word by word, as bash asks it when Tab is pressed; the zsh and
 * fish scripts checked by their shells' own parsers where those shells are installed.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../../client/cli/command-registry.js";
import { PROJECT_ROOT } from "../../scripts/local-stack.js";

const BIN = join(PROJECT_ROOT, "bin", "codeforge.js");

function codeforge(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, HOME: tmpdir() }, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Whether `shell` is installed here. */
function have(shell: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${shell}`], { stdio: "ignore" });
    return true;
  } catch {
    return false; // not on PATH
  }
}

const dir = mkdtempSync(join(tmpdir(), "codeforge-completion-"));
const scripts: Record<string, string> = {};

beforeAll(async () => {
  for (const shell of ["bash", "zsh", "fish"]) {
    const run = await codeforge(["completion", shell]);
    expect(run.code, run.stderr).toBe(0);
    scripts[shell] = run.stdout;
    writeFileSync(join(dir, `codeforge.${shell}`), run.stdout);
  }
  writeFileSync(join(dir, "config.json"), "{}");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What bash's completion offers for the command line `words`, the last being the word under the cursor. */
function complete(...words: string[]): string[] {
  const script = `source ${join(dir, "codeforge.bash")}
COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _codeforge; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const out = execFileSync("bash", ["-c", script, "bash", "codeforge", ...words], { cwd: dir, encoding: "utf8" });
  return out.split("\n").filter(Boolean);
}

describe("codeforge completion bash", () => {
  it("registers itself for codeforge and completes every command by its prefix", () => {
    expect(execFileSync("bash", ["-c", `source ${join(dir, "codeforge.bash")}; complete -p codeforge`], { encoding: "utf8" })).toBe(
      "complete -F _codeforge codeforge\n",
    );
    expect(complete("ta")).toEqual(["tasks"]);
    expect(complete("r")).toEqual(["runners", "runner-credential"]);
    expect(complete("")).toEqual([...COMMANDS.map((c) => c.name), "help"]);
    expect(complete("help", "ke")).toEqual(["keys"]);
  });

  it("completes a group's subcommands, and each command's own flags beside the global ones", () => {
    expect(complete("keys", "")).toEqual(["list", "show", "create", "rotate", "revoke"]);
    expect(complete("keys", "r")).toEqual(["rotate", "revoke"]);
    expect(complete("keys", "rotate", "--o")).toEqual(["--overlap"]);
    expect(complete("tasks", "--")).toEqual(expect.arrayContaining(["--status", "--all", "--json", "--jq", "--url"]));
    expect(complete("tasks", "--")).not.toContain("--overlap");
    expect(complete("-")).toContain("--version");
  });

  it("completes a flag's choices and file names for a file, after global flags and their values", () => {
    expect(complete("tasks", "--status", "")).toEqual(["queued", "leased", "running", "succeeded", "failed", "timed_out", "canceled"]);
    expect(complete("--url", "http://127.0.0.1:8787", "tasks", "--json", "--status", "f")).toEqual(["failed"]);
    expect(complete("submit", "--cli", "co")).toEqual(["codex"]);
    expect(complete("--config", "conf")).toEqual(["config.json"]);
    // A flag's value is not taken for a command: `--limit 5` leaves `tasks` completing flags.
    expect(complete("tasks", "--limit", "5", "--a")).toEqual(["--all"]);
    expect(complete("completion", "")).toEqual(["bash", "zsh", "fish"]);
  });
});

describe("codeforge completion zsh and fish", () => {
  it.runIf(have("zsh"))("writes a zsh script zsh parses", () => {
    execFileSync("zsh", ["-n", join(dir, "codeforge.zsh")]);
  });

  it.runIf(have("fish"))("writes a fish script fish parses, and that completes with descriptions", () => {
    execFileSync("fish", ["--no-execute", join(dir, "codeforge.fish")]);
    const fish = (line: string) =>
      execFileSync("fish", ["-c", `source ${join(dir, "codeforge.fish")}; complete -C '${line}'`], { cwd: dir, encoding: "utf8" })
        .split("\n")
        .filter(Boolean);
    expect(fish("codeforge ta")).toEqual(["tasks\tlist your tasks, newest first"]);
    expect(fish("codeforge --url x tasks --status ti")).toEqual(["timed_out"]);
    expect(fish("codeforge keys rotate --o")).toEqual([expect.stringMatching(/^--overlap\t\w/)]);
  });

  it("registers each for codeforge, with the commands and their descriptions", () => {
    expect(scripts.zsh).toMatch(/^#compdef codeforge\n/);
    expect(scripts.zsh).toContain("compdef _codeforge codeforge");
    expect(scripts.zsh).toContain("'tasks:list your tasks, newest first'");
    expect(scripts.fish).toContain("complete -c codeforge -f -a '(__codeforge_complete)'");
    expect(scripts.fish).toContain("'tasks' 'list your tasks, newest first'");
    for (const shell of ["zsh", "fish"]) expect(scripts[shell]).toContain("queued");
  });

  it("refuses an unknown shell, and says how to install the script in its help", async () => {
    const [unknown, help] = await Promise.all([codeforge(["completion", "powershell"]), codeforge(["completion", "--help"])]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('completion: unknown shell "powershell": one of bash, zsh, fish');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("source <(codeforge completion bash)");
    expect(help.stdout).toContain("~/.config/fish/completions/codeforge.fish");
  });
});
