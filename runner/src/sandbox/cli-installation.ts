/**
 * Where a CLI is installed: the paths a sandbox must show it, read-only, for it to run.
 *
 * The sandbox holds the system and the attempt's own directories, nothing of the host beyond
 * them, so each CLI adapter names its installation. For a program found on `PATH` that is the
 * real file behind the name and, when it lives in an npm package, the whole `node_modules`
 * tree around it (npm hoists a CLI's dependencies beside it, and the platform binaries of
 * Claude Code and Codex are packages of their own there). The Node runtime is included when
 * it lives outside `/usr` (a version manager's directory), since the JavaScript CLIs and the
 * demo need it.
 * @module
 */
import { access, constants, realpath } from "node:fs/promises";
import path from "node:path";

/** The absolute path `command` resolves to on `pathEnv`, or null when it is not there. */
export async function findOnPath(command: string, pathEnv: string): Promise<string | null> {
  if (command.includes("/")) return path.resolve(command);
  for (const dir of pathEnv.split(":").filter(Boolean)) {
    const candidate = path.join(dir, command);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory; the next one may have it.
    }
  }
  return null;
}

/**
 * The directory to show for a file: its outermost enclosing `node_modules` when it has one,
 * else the file itself.
 */
export function installationRoot(file: string): string {
  const parts = file.split(path.sep);
  const first = parts.indexOf("node_modules");
  return first > 0 ? parts.slice(0, first + 1).join(path.sep) : file;
}

/** Paths already in every sandbox: the system. */
function inSystem(file: string): boolean {
  return file === "/usr" || file.startsWith("/usr/");
}

/** The Node runtime's install prefix when it is outside the system directories. */
export function nodeRuntimePaths(nodePath: string = process.execPath): string[] {
  return inSystem(nodePath) ? [] : [path.dirname(path.dirname(nodePath))];
}

/**
 * The read-only paths a sandbox needs for `command` (a name on `pathEnv` or a path): the name
 * as found, the file it links to, their installation roots, and Node's prefix when outside
 * `/usr`. Empty when the command is not found (the CLI's availability check says so).
 * @example
 * await cliInstallation("claude", process.env.PATH ?? "");
 * // ["/opt/codeforge/node_modules"] when claude is an npm dependency of the runner
 */
export async function cliInstallation(command: string, pathEnv: string): Promise<string[]> {
  const found = await findOnPath(command, pathEnv);
  if (!found) return [];
  const real = await realpath(found).catch(() => found);
  const paths = new Set<string>();
  for (const file of [found, real]) {
    const root = installationRoot(file);
    if (!inSystem(root)) paths.add(root);
  }
  for (const runtime of nodeRuntimePaths()) paths.add(runtime);
  return collapse([...paths]);
}

/** Drops paths that lie inside another path of the list. */
export function collapse(paths: readonly string[]): string[] {
  const sorted = [...new Set(paths)].sort((a, b) => a.length - b.length);
  const kept: string[] = [];
  for (const candidate of sorted) {
    if (!kept.some((outer) => candidate === outer || candidate.startsWith(`${outer}${path.sep}`))) kept.push(candidate);
  }
  return kept;
}
