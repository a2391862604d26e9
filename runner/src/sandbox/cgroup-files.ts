/**
 * Reading cgroup files and saying what went wrong with them, for `cgroup-limits.ts` and
 * `cgroup-layout.ts`.
 *
 * A cgroup's files vanish with the cgroup, so a missing file reads as empty rather than failing;
 * file-system errors are turned into a sentence an operator can act on (read-only, not writable
 * by this uid, busy).
 * @module
 */
import { access, readFile } from "node:fs/promises";

/**
 * The pids in a `cgroup.procs` file; [] when the cgroup is gone. Pids outside our pid
 * namespace read as 0 and are dropped: `kill(0)` would signal the runner's own process group.
 */
export async function readPids(file: string): Promise<number[]> {
  const text = await readText(file);
  return text
    .split("\n")
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}

/** The number after `key` in a `key value` per line file (`memory.events`, `pids.events`). */
export async function readCounter(file: string, key: string): Promise<number | undefined> {
  for (const line of (await readText(file)).split("\n")) {
    const [name, value] = line.trim().split(/\s+/);
    if (name === key && value !== undefined) return Number(value);
  }
  return undefined;
}

/** The words of a file such as `cgroup.controllers`; [] when it does not exist. */
export async function readWords(file: string): Promise<string[]> {
  return (await readText(file)).split(/\s+/).filter(Boolean);
}

/** A cgroup file's text, or "" when it (or its cgroup) does not exist. */
export async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if (errorCode(error) === "ENOENT") return "";
    throw error;
  }
}

/** Whether a file exists and is visible to the runner. */
export async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false; // absent (or not even visible to us): either way not usable
  }
}

/** A file-system error at `where` as a sentence an operator can act on. */
export function describeFsError(error: unknown, where: string): string {
  switch (errorCode(error)) {
    case "EROFS":
      return `${where} is read-only`;
    case "EACCES":
    case "EPERM":
      return `${where} is not writable by this process (uid ${process.getuid?.() ?? "?"})`;
    case "ENOENT":
      return `${where} does not exist`;
    case "EBUSY":
      return `${where} is busy (it holds processes and cannot delegate controllers)`;
    default:
      return `${where}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** The `code` of a Node system error (`ENOENT`, `EBUSY`, …), if it has one. */
export function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined;
}
