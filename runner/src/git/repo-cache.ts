/**
 * The runner's repository cache: one bare mirror per repository URL, a lock per mirror, and
 * least-recently-used eviction under a size cap.
 *
 * A mirror lives at `<dir>/<key>.git`, where the key is a hash of the repository URL as the
 * URL parser canonicalises it (scheme and host lower-cased, default port dropped) without
 * trailing slashes; `…/repo` and `…/repo.git` are kept apart on purpose, since only a server's
 * own rules say whether they are one repository (see `mirror-clone.ts` for who may read a
 * mirror). The directory is the runner's own: never inside a workspace, never mounted into a
 * sandbox.
 *
 * Tasks of the same repository run side by side, so every use of a mirror holds its lock:
 * `<dir>/<key>.lock`, created with `O_CREAT | O_EXCL` (`wx`) and holding the owner's pid. A
 * task that cannot take it within `lockWaitMs` clones without the cache rather than wait; a
 * lock whose process is gone (a runner killed mid-fetch) is taken over. Eviction takes each
 * mirror's lock without waiting and skips the ones in use, so it never pulls a mirror from
 * under a clone. A mirror's last use is its directory's modification time, set when a task
 * lets go of it.
 * @module
 */
import { createHash } from "node:crypto";
import { mkdir, open, readdir, readFile, rm, stat, unlink, utimes } from "node:fs/promises";
import path from "node:path";
import { diskUsageBytes } from "../workspace/disk-usage.js";

/** How long a task waits for a mirror another task holds before cloning without it. */
export const MIRROR_LOCK_WAIT_MS = 30_000;

/** Between two tries at a held lock. */
const LOCK_RETRY_MS = 100;

export interface RepoCacheOptions {
  /** The runner-owned directory that holds the mirrors. */
  dir: string;
  /** Past this, least-recently-used mirrors are removed after a clone. */
  maxBytes: number;
  lockWaitMs?: number;
  /** Measures a mirror (default: the `du`-like walk). */
  measure?: (dir: string) => Promise<number>;
}

/** A mirror held under its lock; `release` records the use and lets go. */
export interface HeldMirror {
  readonly key: string;
  /** The bare repository (may not exist yet). */
  readonly path: string;
  /** Removes the mirror (it is broken); the lock stays held until `release`. */
  discard(): Promise<void>;
  release(): Promise<void>;
}

export interface RepoCache {
  readonly dir: string;
  /** The mirror of `url`, locked; null when another task held it for longer than the wait. */
  acquire(url: string, signal?: AbortSignal): Promise<HeldMirror | null>;
  /** Removes least-recently-used mirrors not in use until the cache fits its cap; returns the keys removed. */
  evict(): Promise<string[]>;
}

/** The key of a repository URL's mirror: a hash of the URL, canonicalised. */
export function mirrorKey(url: string): string {
  let canonical = url.trim();
  try {
    const parsed = new URL(canonical);
    canonical = `${parsed.protocol}//${parsed.username ? `${parsed.username}@` : ""}${parsed.host}${parsed.pathname}`;
  } catch {
    // An scp-like ssh address (`git@host:owner/repo.git`) is no URL: it is hashed as written.
  }
  return createHash("sha256").update(canonical.replace(/\/+$/, "")).digest("hex").slice(0, 32);
}

/**
 * @example
 * const cache = createRepoCache({ dir: "/var/lib/codeforge/repo-cache", maxBytes: 10 * 2 ** 30 });
 * const mirror = await cache.acquire(url);
 */
export function createRepoCache(options: RepoCacheOptions): RepoCache {
  const { dir, maxBytes, lockWaitMs = MIRROR_LOCK_WAIT_MS, measure = diskUsageBytes } = options;
  const lockPath = (key: string) => path.join(dir, `${key}.lock`);
  const mirrorPath = (key: string) => path.join(dir, `${key}.git`);

  function held(key: string): HeldMirror {
    let released = false;
    return {
      key,
      path: mirrorPath(key),
      discard: () => rm(mirrorPath(key), { recursive: true, force: true }),
      async release() {
        if (released) return;
        released = true;
        const now = new Date();
        await utimes(mirrorPath(key), now, now).catch(() => undefined); // a discarded mirror has nothing to date
        await unlink(lockPath(key)).catch(() => undefined); // already gone: nothing to let go of
      },
    };
  }

  return {
    dir,
    async acquire(url, signal) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const key = mirrorKey(url);
      const deadline = Date.now() + lockWaitMs;
      for (;;) {
        if (await tryLock(lockPath(key))) return held(key);
        if (Date.now() >= deadline || signal?.aborted) return null;
        await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
      }
    },
    async evict() {
      const mirrors = await listMirrors(dir, measure);
      let total = mirrors.reduce((sum, m) => sum + m.bytes, 0);
      const removed: string[] = [];
      for (const mirror of mirrors.sort((a, b) => a.usedMs - b.usedMs)) {
        if (total <= maxBytes) break;
        if (!(await tryLock(lockPath(mirror.key)))) continue;
        try {
          await rm(mirrorPath(mirror.key), { recursive: true, force: true });
          total -= mirror.bytes;
          removed.push(mirror.key);
        } finally {
          await unlink(lockPath(mirror.key)).catch(() => undefined); // gone already: fine
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

async function listMirrors(dir: string, measure: (dir: string) => Promise<number>): Promise<{ key: string; bytes: number; usedMs: number }[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const mirrors: { key: string; bytes: number; usedMs: number }[] = [];
  for (const name of names) {
    const match = /^([0-9a-f]{32})\.git$/.exec(name);
    if (!match) continue;
    const info = await stat(path.join(dir, name)).catch(() => null);
    if (!info?.isDirectory()) continue;
    mirrors.push({ key: match[1]!, bytes: await measure(path.join(dir, name)), usedMs: info.mtimeMs });
  }
  return mirrors;
}
