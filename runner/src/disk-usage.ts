/**
 * Bytes a directory tree occupies on disk, measured like `du`: a walk that never follows
 * symlinks.
 *
 * Used for the workspace gauge. A CLI can fill a disk (a runaway build, a huge download), and
 * an operator needs to see that before the machine does. Symlinks are counted as themselves,
 * not followed, so a link to `/` in a workspace neither inflates the figure nor makes the
 * walk wander over the whole machine. Allocated blocks (`blocks × 512`) are counted where the
 * file system reports them (sparse files count what they use), else the apparent size; a hard
 * link is counted once. Entries that vanish during the walk (a task's workspace being
 * removed) are skipped.
 * @module
 */
import { lstat, readdir } from "node:fs/promises";
import path from "node:path";

/**
 * @example
 * const bytes = await diskUsageBytes(config.workspace_root);
 */
export async function diskUsageBytes(root: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const stack = [root];
  while (stack.length > 0) {
    const current = stack.pop()!;
    let stat;
    try {
      stat = await lstat(current);
    } catch {
      continue; // gone meanwhile (or never there): it uses no space
    }
    if (stat.nlink > 1 && !stat.isDirectory()) {
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
