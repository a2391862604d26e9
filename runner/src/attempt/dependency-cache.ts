/**
 * The runner's dependency caches: per pool and repository, one directory holding the download
 * caches of the common package managers, lent read-write to the task's setup phase (never to
 * the CLI) and evicted least-recently-used under a size cap (`workspace/lru-dir-cache.ts`, the
 * same locks and eviction as the repository cache).
 *
 * Key: the pool and the repository URL (as `mirrorKey` canonicalises it), not the lockfiles.
 * The package managers' caches are content-addressed (npm's cacache, pnpm's store, pip's HTTP
 * cache, cargo's registry, Go's module cache): a cache warmed by yesterday's lockfile still
 * serves every package today's lockfile kept, and never serves a wrong one. So one directory
 * per (pool, repository) is reused across lockfile changes; the hash of the lockfiles at the
 * checkout's root (`LOCKFILES`) is recorded beside it to say how warm it was: `hit` (the same
 * lockfiles as its last use), `miss` (other lockfiles: partly warm), `cold` (made for this
 * task), `fallback` (another task of the repository held it past the wait: none lent), `off`.
 *
 * Trust boundary: whatever a setup writes there is seen by later setups of the same repository
 * in the same pool, and by nobody else — no other repository, no other pool, never the CLI.
 * @module
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { DependencyCacheStatus } from "#api/index.js";
import { mirrorKey } from "../git/repo-cache.js";
import { createLruDirCache, type HeldEntry } from "../workspace/lru-dir-cache.js";

/** How long a setup waits for the cache another task of its repository holds before going without. */
export const DEPENDENCY_CACHE_LOCK_WAIT_MS = 30_000;

/** Lockfiles at the checkout's root whose contents make up the recorded hash. */
export const LOCKFILES: readonly (string | RegExp)[] = [
  "package-lock.json",
  "npm-shrinkwrap.json",
  "pnpm-lock.yaml",
  "yarn.lock",
  /^requirements.*\.txt$/,
  "poetry.lock",
  "uv.lock",
  "Pipfile.lock",
  "Cargo.lock",
  "go.sum",
];

/** Each package manager's cache directory under the lent directory, and the variables that point it there. */
const MANAGER_DIRS = ["npm", "pnpm", "yarn", "pip", "uv", "cargo", "go/mod", "go/build"] as const;

/** The setup's environment for a cache seen at `root` inside its sandbox. */
export function dependencyCacheEnv(root: string): Record<string, string> {
  const at = (sub: string) => path.posix.join(root, sub);
  return {
    npm_config_cache: at("npm"),
    npm_config_store_dir: at("pnpm"),
    PNPM_STORE_DIR: at("pnpm"),
    YARN_CACHE_FOLDER: at("yarn"),
    PIP_CACHE_DIR: at("pip"),
    UV_CACHE_DIR: at("uv"),
    CARGO_HOME: at("cargo"),
    GOMODCACHE: at("go/mod"),
    GOCACHE: at("go/build"),
  };
}

/** The hash of the lockfiles at the root of `repoDir` (names and contents; none: the hash of nothing). */
export async function lockfileHash(repoDir: string): Promise<string> {
  const names = (await readdir(repoDir).catch(() => [] as string[]))
    .filter((name) => LOCKFILES.some((l) => (typeof l === "string" ? l === name : l.test(name))))
    .sort();
  const hash = createHash("sha256");
  for (const name of names) {
    const content = await readFile(path.join(repoDir, name)).catch(() => null);
    if (content === null) continue; // a directory or a broken link by that name: not a lockfile
    hash.update(`${name}\0${content.length}\0`).update(content);
  }
  return hash.digest("hex");
}

/** A task's dependency cache, held under its lock until `release`. */
export interface HeldDependencyCache {
  /** The directory to lend the setup (on the host). */
  readonly dir: string;
  readonly status: Exclude<DependencyCacheStatus, "off" | "fallback">;
  /** Records the use (and, after a setup that succeeded, the lockfiles' hash), lets go, and evicts past the cap. */
  release(succeeded: boolean): Promise<void>;
}

export interface DependencyCache {
  /** The cache of `repoUrl` for this runner's pool, locked; null when another task held it past the wait. */
  acquire(repoUrl: string, lockHash: string, signal?: AbortSignal): Promise<HeldDependencyCache | null>;
  /** Removes least-recently-used caches not in use until the whole fits its cap; returns the keys removed. */
  evict(): Promise<string[]>;
}

export interface DependencyCacheOptions {
  /** The runner-owned directory that holds the caches. */
  dir: string;
  /** The runner's pool: part of every key, so pools never share a cache. */
  pool: string;
  maxBytes: number;
  lockWaitMs?: number;
}

/** The key of a repository's cache in a pool. */
export function dependencyCacheKey(pool: string, repoUrl: string): string {
  return createHash("sha256")
    .update(`${pool}\0${mirrorKey(repoUrl)}`)
    .digest("hex")
    .slice(0, 32);
}

/**
 * @example
 * const caches = createDependencyCache({ dir, pool: "default", maxBytes: 10 * 2 ** 30 });
 * const held = await caches.acquire(url, await lockfileHash(repoDir));
 */
export function createDependencyCache(options: DependencyCacheOptions): DependencyCache {
  const { dir, pool, maxBytes, lockWaitMs = DEPENDENCY_CACHE_LOCK_WAIT_MS } = options;
  const entries = createLruDirCache({ dir, suffix: ".deps", maxBytes, lockWaitMs });
  return {
    async acquire(repoUrl, lockHash, signal) {
      const entry = await entries.acquire(dependencyCacheKey(pool, repoUrl), signal);
      if (!entry) return null;
      try {
        return await prepare(entry, lockHash, () => entries.evict());
      } catch (err) {
        await entry.release();
        throw err;
      }
    },
    evict: () => entries.evict(),
  };
}

/** Makes the entry's directories; says how warm it is. The record sits beside the lent directory, out of the setup's reach. */
async function prepare(entry: HeldEntry, lockHash: string, evict: () => Promise<string[]>): Promise<HeldDependencyCache> {
  const record = path.join(entry.path, "lockfile-hash");
  const lent = path.join(entry.path, "cache");
  const before = await readFile(record, "utf8").catch(() => null);
  await Promise.all(MANAGER_DIRS.map((sub) => mkdir(path.join(lent, sub), { recursive: true, mode: 0o700 })));
  const status = before === null ? "cold" : before.trim() === lockHash ? "hit" : "miss";
  return {
    dir: lent,
    status,
    async release(succeeded) {
      try {
        // A failed setup may have left the cache half-filled: the next one is not told it hit.
        await writeFile(record, succeeded ? `${lockHash}\n` : "", { mode: 0o600 });
      } finally {
        await entry.release();
      }
      await evict();
    },
  };
}
