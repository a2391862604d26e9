/**
 * A runner-owned cache of directories, one per key, each used under a lock and evicted
 * least-recently-used under a size cap: the repository cache's mirrors (`git/repo-cache.ts`)
 * and the dependency caches (`attempt/dependency-cache.ts`) are both kept this way.
 *
 * An entry lives at `<dir>/<key><suffix>` (the key: 32 hex digits). Every use holds its lock,
 * `<dir>/<key>.lock`, created with `O_CREAT | O_EXCL` (`wx`) and holding the owner's pid. A
 * task that cannot take it within `lockWaitMs` goes without the entry rather than wait; a lock
 * whose process is gone (a runner killed mid-use) is taken over. Eviction takes each entry's
 * lock without waiting and skips the ones in use, so it never pulls an entry from under a
 * task. An entry's last use is its directory's modification time, set when a task lets go.
 * @module
 */
import { mkdir, open, readdir, readFile, rm, stat, unlink, utimes } from "node:fs/promises";
import path from "node:path";
import { diskUsageBytes } from "./disk-usage.js";

/** Between two tries at a held lock. */
const LOCK_RETRY_MS = 100;

export interface LruDirCacheOptions {
  /** The runner-owned directory that holds the entries. */
  dir: string;
  /** What follows the key in an entry's name (`.git`, `.deps`). */
  suffix: string;
  /** Past this, least-recently-used entries are removed by `evict`. */
  maxBytes: number;
  /** How long `acquire` waits for an entry another task holds. */
  lockWaitMs: number;
  /** Measures an entry (default: the `du`-like walk). */
  measure?: (dir: string) => Promise<number>;
}

/** An entry held under its lock; `release` records the use and lets go. */
export interface HeldEntry {
  readonly key: string;
  /** The entry's directory (may not exist yet). */
  readonly path: string;
  /** Removes the entry (it is broken); the lock stays held until `release`. */
  discard(): Promise<void>;
  release(): Promise<void>;
}

export interface LruDirCache {
  readonly dir: string;
  /** The entry of `key` (32 hex digits), locked; null when another task held it for longer than the wait. */
  acquire(key: string, signal?: AbortSignal): Promise<HeldEntry | null>;
  /** Removes least-recently-used entries not in use until the cache fits its cap; returns the keys removed. */
  evict(): Promise<string[]>;
}

/**
 * @example
 * const cache = createLruDirCache({ dir, suffix: ".deps", maxBytes: 2 ** 30, lockWaitMs: 30_000 });
 * const entry = await cache.acquire(key);
 */
export function createLruDirCache(options: LruDirCacheOptions): LruDirCache {
  const { dir, suffix, maxBytes, lockWaitMs, measure = diskUsageBytes } = options;
  const lockPath = (key: string) => path.join(dir, `${key}.lock`);
  const entryPath = (key: string) => path.join(dir, `${key}${suffix}`);

  function held(key: string): HeldEntry {
    let released = false;
    return {
      key,
      path: entryPath(key),
      discard: () => rm(entryPath(key), { recursive: true, force: true }),
      async release() {
        if (released) return;
        released = true;
        const now = new Date();
        await utimes(entryPath(key), now, now).catch(() => undefined); // a discarded entry has nothing to date
        await unlink(lockPath(key)).catch(() => undefined); // already gone: nothing to let go of
      },
    };
  }

  return {
    dir,
    async acquire(key, signal) {
      if (!/^[0-9a-f]{32}$/.test(key)) throw new Error(`not a cache key: ${key}`);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const deadline = Date.now() + lockWaitMs;
      for (;;) {
        if (await tryLock(lockPath(key))) return held(key);
        if (Date.now() >= deadline || signal?.aborted) return null;
        await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
      }
    },
    async evict() {
      const entries = await listEntries(dir, suffix, measure);
      let total = entries.reduce((sum, e) => sum + e.bytes, 0);
      const removed: string[] = [];
      for (const entry of entries.sort((a, b) => a.usedMs - b.usedMs)) {
        if (total <= maxBytes) break;
        if (!(await tryLock(lockPath(entry.key)))) continue;
        try {
          await rm(entryPath(entry.key), { recursive: true, force: true });
          total -= entry.bytes;
          removed.push(entry.key);
        } finally {
          await unlink(lockPath(entry.key)).catch(() => undefined); // gone already: fine
        }
      }
      return removed;
    },
  };
}

/** Takes the lock file, or takes over one whose owner is no longer running; false when held. */
async function tryLock(file: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, "wx", 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    if (!(await ownerGone(file))) return false;
    await unlink(file).catch(() => undefined); // another task took it over first: the retry sees its lock
  }
  return false;
}

async function ownerGone(file: string): Promise<boolean> {
  const pid = Number((await readFile(file, "utf8").catch(() => "")).trim());
  // An empty file is a lock being written this instant: held.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

async function listEntries(dir: string, suffix: string, measure: (dir: string) => Promise<number>): Promise<{ key: string; bytes: number; usedMs: number }[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const entries: { key: string; bytes: number; usedMs: number }[] = [];
  for (const name of names) {
    if (!name.endsWith(suffix)) continue;
    const key = name.slice(0, -suffix.length);
    if (!/^[0-9a-f]{32}$/.test(key)) continue;
    const info = await stat(path.join(dir, name)).catch(() => null);
    if (!info?.isDirectory()) continue;
    entries.push({ key, bytes: await measure(path.join(dir, name)), usedMs: info.mtimeMs });
  }
  return entries;
}
