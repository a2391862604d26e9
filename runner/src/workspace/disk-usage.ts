/**
 * Bytes a directory tree occupies on disk, measured like `du`: a walk that never follows
 * symlinks.
 *
 * Used for the workspace gauge and for an attempt's disk quota (`sandbox/disk-quota.ts`). A CLI
 * can fill a disk (a runaway build, a huge download), and an operator needs to see that before
 * the machine does. Symlinks are counted as themselves, not followed, so a link to `/` in a
 * workspace neither inflates the figure nor makes the walk wander over the whole machine.
 * Allocated blocks (`blocks × 512`) are counted where the file system reports them (sparse
 * files count what they use), else the apparent size. A hard link is counted once, also when
 * its twin lies under another of the roots; a directory reached twice (overlapping roots, a
 * bind mount) is walked once. Entries that vanish during the walk (a task's workspace being
 * removed) are skipped.
 *
 * The walk never calls a synchronous file-system function: every `lstat` and `readdir` is
 * awaited, so the event loop gets a turn between entries and a workspace with a million files
 * slows the figure down, never the runner.
 * @module
 */
import { lstat, readdir } from "node:fs/promises";
import path from "node:path";

/**
 * @example
 * const bytes = await diskUsageBytes(config.workspace_root);
 */
export async function diskUsageBytes(root: string): Promise<number> {
  return diskUsageTotalBytes([root]);
}

/**
 * Bytes used under all of `roots` together, each file counted once however many of the roots
 * (or hard links) reach it.
 * @example
 * const bytes = await diskUsageTotalBytes([workspaceDir, scratchDir]);
 */
export async function diskUsageTotalBytes(roots: readonly string[]): Promise<number> {
  // dev:ino of every directory and every multiply-linked file seen so far. Singly-linked files
  // cannot be reached twice without going through a directory already in here, so they are
  // left out: that keeps the set to the size of the directory count, not the file count.
  const seen = new Set<string>();
  let total = 0;
  const stack = [...roots].reverse();
  while (stack.length > 0) {
    const current = stack.pop()!;
    let stat: Awaited<ReturnType<typeof lstat>>;
    try {
      stat = await lstat(current);
    } catch {
      continue; // gone meanwhile (or never there): it uses no space
    }
    if (stat.isDirectory() || stat.nlink > 1) {
      const id = `${stat.dev}:${stat.ino}`;
      if (seen.has(id)) continue;
      seen.add(id);
    }
    total += stat.blocks !== undefined && stat.blocks !== null ? stat.blocks * 512 : stat.size;
    if (!stat.isDirectory()) continue;
    let entries: string[];
    try {
      entries = await readdir(current);
    } catch {
      continue; // removed, or unreadable: counted as far as we could see
    }
    for (const entry of entries) stack.push(path.join(current, entry));
  }
  return total;
}
