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
 * Tasks of the same repository run side by side, so every use of a mirror holds its lock
 * (`workspace/lru-dir-cache.ts`, shared with the dependency caches): a task that cannot take it
 * within `lockWaitMs` clones without the cache rather than wait; a lock whose process is gone
 * (a runner killed mid-fetch) is taken over; eviction skips mirrors in use, and a mirror's
 * last use is its directory's modification time, set when a task lets go of it.
 * @module
 */
import { createHash } from "node:crypto";
import { createLruDirCache, type HeldEntry } from "../workspace/lru-dir-cache.js";

/** How long a task waits for a mirror another task holds before cloning without it. */
export const MIRROR_LOCK_WAIT_MS = 30_000;

export interface RepoCacheOptions {
  /** The runner-owned directory that holds the mirrors. */
  dir: string;
  /** Past this, least-recently-used mirrors are removed after a clone. */
  maxBytes: number;
  lockWaitMs?: number;
  /** Measures a mirror (default: the `du`-like walk). */
  measure?: (dir: string) => Promise<number>;
}

/** A mirror held under its lock (`path`: the bare repository, which may not exist yet); `release` records the use and lets go. */
export type HeldMirror = HeldEntry;

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
  const { dir, maxBytes, lockWaitMs = MIRROR_LOCK_WAIT_MS, measure } = options;
  const entries = createLruDirCache({ dir, suffix: ".git", maxBytes, lockWaitMs, measure });
  return {
    dir,
    acquire: (url, signal) => entries.acquire(mirrorKey(url), signal),
    evict: () => entries.evict(),
  };
}
