// Integration: the runner's repository cache with real git against file:// remotes. A clone from
// the mirror is the clone without it; the mirror follows the remote; a held or broken mirror
// gives way to a plain clone; eviction drops the least recently used mirrors past the cap.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { open, unlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cloneRepository } from "../../runner/src/git/git-clone.js";
import { createRepoCache, mirrorKey, type RepoCache } from "../../runner/src/git/repo-cache.js";
import { diskUsageBytes } from "../../runner/src/workspace/disk-usage.js";
import { createGitFixture, git, type GitFixture } from "./harness/git-fixture.js";

let fixture: GitFixture;
let scratch: string;
let n = 0;
beforeAll(() => {
  fixture = createGitFixture();
  scratch = mkdtempSync(path.join(os.tmpdir(), "codeforge-repo-cache-"));
});
afterAll(() => {
  fixture.remove();
  rmSync(scratch, { recursive: true, force: true });
});

const newCache = (options: { maxBytes?: number; lockWaitMs?: number } = {}): RepoCache =>
  createRepoCache({ dir: path.join(scratch, `cache${++n}`), maxBytes: options.maxBytes ?? 1 << 30, lockWaitMs: options.lockWaitMs });

async function clone(url: string, ref: string | null, cache?: RepoCache) {
  const dir = path.join(scratch, `c${++n}`);
  const result = await cloneRepository({
    url,
    ref,
    dir,
    homeDir: scratch,
    pathEnv: process.env.PATH ?? "/usr/bin:/bin",
    allowFile: true,
    allowSsh: false,
    cache,
  });
  return { ...result, dir };
}

/** What a task sees of a checkout: its commit, its files, how deep its history is, a clean status. */
function checkoutOf(dir: string) {
  return {
    head: git(dir, "rev-parse", "HEAD"),
    files: git(dir, "ls-files", "-s"),
    shallow: git(dir, "rev-parse", "--is-shallow-repository"),
    commits: git(dir, "rev-list", "--count", "HEAD"),
    status: git(dir, "status", "--porcelain"),
    alternates: existsSync(path.join(dir, ".git", "objects", "info", "alternates")),
    symlinks: git(dir, "config", "core.symlinks"),
  };
}

describe("clones through the repository cache", () => {
  it("checks out what a clone without the cache checks out, for the default branch, a branch and a commit", async () => {
    const cache = newCache();
    for (const ref of [null, "feature", fixture.mainSha]) {
      const plain = await clone(fixture.url, ref);
      expect(plain.cache).toBe("off");
      const first = await clone(fixture.url, ref, cache);
      const second = await clone(fixture.url, ref, cache);
      expect(first.cache).toBe(ref === null ? "cold" : "hit");
      expect(second.cache).toBe("hit");
      expect(first.baseSha).toBe(plain.baseSha);
      expect(second.baseSha).toBe(plain.baseSha);
      expect(checkoutOf(second.dir)).toEqual(checkoutOf(plain.dir));
      expect(checkoutOf(second.dir)).toMatchObject({ shallow: "true", commits: "1", alternates: false, symlinks: "false" });
    }
    // One mirror, named by the repository's key, beside its (released) lock.
    expect(readdirSync(cache.dir)).toEqual([`${mirrorKey(fixture.url)}.git`]);
  });

  it("keeps a clone from the mirror whole once the mirror is gone", async () => {
    const cache = newCache();
    const { dir } = await clone(fixture.url, "main", cache);
    rmSync(cache.dir, { recursive: true, force: true });
    expect(git(dir, "fsck", "--no-progress")).toBe("");
    expect(readFileSync(path.join(dir, "README.md"), "utf8")).toBe("# Fixture\n");
  });

  it("fetches into the mirror when the remote moved on, and checks out what the remote has now", async () => {
    const moving = createGitFixture();
    try {
      const cache = newCache();
      expect((await clone(moving.url, "main", cache)).cache).toBe("cold");
      const work = path.join(moving.dir, "work");
      git(work, "checkout", "--quiet", "main");
      writeFileSync(path.join(work, "NEW.md"), "new\n");
      git(work, "add", "-A");
      git(work, "commit", "--quiet", "-m", "new");
      git(work, "push", "--quiet", path.join(moving.dir, "origin.git"), "main");
      const after = await clone(moving.url, "main", cache);
      expect(after.cache).toBe("miss");
      expect(after.baseSha).toBe(git(work, "rev-parse", "HEAD"));
      expect(readFileSync(path.join(after.dir, "NEW.md"), "utf8")).toBe("new\n");
      expect((await clone(moving.url, "main", cache)).cache).toBe("hit");
    } finally {
      moving.remove();
    }
  });

  it("clones without the cache while another task holds the mirror, and leaves the mirror alone", async () => {
    const cache = newCache({ lockWaitMs: 300 });
    await clone(fixture.url, "main", cache);
    const lock = path.join(cache.dir, `${mirrorKey(fixture.url)}.lock`);
    const handle = await open(lock, "wx");
    await handle.writeFile(String(process.pid));
    await handle.close();
    try {
      const held = await clone(fixture.url, "feature", cache);
      expect(held.cache).toBe("fallback");
      expect(held.baseSha).toBe(fixture.featureSha);
      expect(existsSync(lock)).toBe(true);
    } finally {
      await unlink(lock);
    }
    expect((await clone(fixture.url, "feature", cache)).cache).toBe("hit");
  });

  it("takes over the lock of a runner that died holding it", async () => {
    const cache = newCache({ lockWaitMs: 300 });
    // No process has this id (the kernel's pid_max is at most 2^22).
    writeFileSync(path.join((await clone(fixture.url, "main", cache), cache.dir), `${mirrorKey(fixture.url)}.lock`), "99999999");
    expect((await clone(fixture.url, "main", cache)).cache).toBe("hit");
  });

  it("falls back to a plain clone from a corrupt mirror, drops it and builds it anew", async () => {
    const cache = newCache();
    await clone(fixture.url, "main", cache);
    const mirror = path.join(cache.dir, `${mirrorKey(fixture.url)}.git`);
    // Every object file of the mirror overwritten: it still answers, but cannot hand anything over.
    for (const file of walk(path.join(mirror, "objects"))) writeFileSync(file, "garbage");
    const broken = await clone(fixture.url, "main", cache);
    expect(broken.cache).toBe("fallback");
    expect(broken.baseSha).toBe(fixture.mainSha);
    expect(readFileSync(path.join(broken.dir, "README.md"), "utf8")).toBe("# Fixture\n");
    expect(existsSync(mirror)).toBe(false);
    expect((await clone(fixture.url, "main", cache)).cache).toBe("cold");
    expect((await clone(fixture.url, "main", cache)).cache).toBe("hit");
  });

  it("rebuilds a mirror directory that is not a repository at all", async () => {
    const cache = newCache();
    await clone(fixture.url, "main", cache);
    const mirror = path.join(cache.dir, `${mirrorKey(fixture.url)}.git`);
    rmSync(mirror, { recursive: true });
    writeFileSync(path.join(cache.dir, "stray"), "");
    const again = await clone(fixture.url, "main", cache);
    expect(again.cache).toBe("cold");
    expect(again.baseSha).toBe(fixture.mainSha);
  });

  it("evicts the least recently used mirrors once the cache passes its cap", async () => {
    const repos = [
      createGitFixture({ "a.bin": "a".repeat(50_000) }),
      createGitFixture({ "b.bin": "b".repeat(50_000) }),
      createGitFixture({ "c.bin": "c".repeat(50_000) }),
    ];
    try {
      const sizing = newCache();
      await clone(repos[0]!.url, "main", sizing);
      const oneMirror = await diskUsageBytes(sizing.dir);
      // Room for two mirrors, not three.
      const cache = newCache({ maxBytes: Math.floor(oneMirror * 2.5) });
      const mirrorOf = (i: number) => path.join(cache.dir, `${mirrorKey(repos[i]!.url)}.git`);
      await clone(repos[0]!.url, "main", cache);
      await clone(repos[1]!.url, "main", cache);
      await new Promise((resolve) => setTimeout(resolve, 20));
      // Repository 0 used again: repository 1 is now the least recently used.
      expect((await clone(repos[0]!.url, "main", cache)).cache).toBe("hit");
      await new Promise((resolve) => setTimeout(resolve, 20));
      await clone(repos[2]!.url, "main", cache);
      expect([0, 1, 2].map((i) => existsSync(mirrorOf(i)))).toEqual([true, false, true]);
      expect((await clone(repos[1]!.url, "main", cache)).cache).toBe("cold");
    } finally {
      for (const repo of repos) repo.remove();
    }
  });
});

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? walk(path.join(dir, entry.name)) : [path.join(dir, entry.name)]));
}
