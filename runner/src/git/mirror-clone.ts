/**
 * A task's clone made from the runner's mirror of its repository (`repo-cache.ts`), with the
 * task's own access checked first and the remote still having the last word.
 *
 * 1. **Access.** `git ls-remote` against the real remote with the task's own credentials (the
 *    askpass helper, pinned addresses, protocol policy, no redirects: everything
 *    `git-clone.ts` gives its git) — with no token for a task that has none, so a public
 *    repository passes and a private one does not. It also names the commit the task's ref
 *    is at now. Until it succeeds, no mirror is opened, locked or updated: a task refused here
 *    gets the clone error it would get without a cache, and one tenant's access never lends
 *    another a private repository's objects.
 * 2. **Mirror.** Under the mirror's lock: created when absent or broken (`cold`), updated with
 *    `git fetch --prune` of every branch and tag when it lacks that commit (`miss`), used as it
 *    is when it has it (`hit`). A mirror is only ever filled from its own repository URL, with
 *    the credentials of a task that has just passed step 1 against that URL.
 * 3. **Copy, not borrow.** The commit's objects (and the follow-up's starting commit's) are
 *    copied out of the mirror into the clone's own pack: the mirror is lent as an alternate
 *    for one `git repack -a -d` with the commit as the shallow boundary, so only its tree is
 *    copied, and taken back before anything else runs in the checkout (`copyCommits`). The
 *    checkout ends with no alternates, no `--reference` and no hard link into the mirror: it
 *    is mounted into the sandbox, and a lasting link would point the agent at a shared mirror
 *    (read it, or corrupt it through a hard-linked pack), and leave the checkout broken once the
 *    mirror is evicted. `--reference` + `--dissociate` would also cut the link, but only after
 *    repacking the branch's whole history; a `--depth 1` fetch over `file://` copies one tree
 *    too, but packs, pipes and indexes it again (measured several times slower on 200 MB). The
 *    result is the shallow, one-commit checkout a clone without the cache gives.
 * 4. **The remote decides.** `git fetch` of the task's ref from the real remote, then
 *    `checkout FETCH_HEAD`: what the mirror already gave is not sent again (the fetch has no
 *    `--depth` then, which would make the remote send the whole tree once more), and a branch
 *    that moved since step 1 ends where the remote has it now.
 *
 * When the lock is not to be had in time, the mirror cannot be updated or its copy fails (a
 * corrupt mirror, which is then removed), the clone goes on from the remote alone: the cache
 * only ever saves time (`fallback`).
 * @module
 */
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { isCommitSha, type CloneCache } from "#api/index.js";
import type { HeldMirror, RepoCache } from "./repo-cache.js";

export type { CloneCache } from "#api/index.js";

/** Git in one directory, with a set of credentials and settings. */
export interface GitIn {
  run(args: string[]): Promise<void>;
  output(args: string[]): Promise<string>;
}

export interface MirrorCloneOptions {
  cache: RepoCache;
  url: string;
  ref: string | null;
  /** Must not exist yet. */
  dir: string;
  alsoFetch?: string;
  /** Git as the task: its credentials, the remote's policy and pinned addresses. */
  remote: (dir: string) => GitIn;
  /** Git on the mirror and on the clone being filled from it: no credentials, at most the `file` transport. */
  local: (dir: string) => GitIn;
  /** Settings written into the clone's `.git/config`. */
  repoConfig: readonly string[];
  signal?: AbortSignal;
}

/**
 * Checks the task's access, fills `dir` from the mirror where it can, then fetches and checks
 * out the ref from the remote. Throws what git threw when the remote refuses.
 * @example
 * const cache = await cloneThroughMirror({ cache, url, ref, dir, remote, local, repoConfig: CLONE_REPO_CONFIG });
 */
export async function cloneThroughMirror(options: MirrorCloneOptions): Promise<CloneCache> {
  const wanted = await remoteCommit(options);
  await initClone(options);
  let cache: CloneCache = "fallback";
  const mirror = await options.cache.acquire(options.url, options.signal);
  if (mirror) {
    try {
      cache = await fillFromMirror(options, mirror, wanted);
    } finally {
      await mirror.release();
    }
    // Never fails the clone: a mirror that cannot be removed now is tried again after the next one.
    await options.cache.evict().catch(() => undefined);
  }
  const clone = options.remote(options.dir);
  // With the commit already copied, a fetch without `--depth` finds it there and takes nothing
  // but what the remote added since (a `--depth` fetch would send the whole tree again).
  const copied = await clone.run(["cat-file", "-e", `${wanted}^{commit}`]).then(
    () => true,
    () => false,
  );
  const depth = copied ? [] : ["--depth", "1"];
  await clone.run(["fetch", "--quiet", ...depth, "--no-tags", "--no-recurse-submodules", "--", options.url, options.ref ?? "HEAD"]);
  await clone.run(["checkout", "--quiet", "--detach", "FETCH_HEAD"]);
  return cache;
}

/** The commit the task's ref names on the remote now, asked with the task's own credentials. */
async function remoteCommit(options: MirrorCloneOptions): Promise<string> {
  const { ref } = options;
  const git = options.remote(path.dirname(options.dir));
  if (ref !== null && isCommitSha(ref)) {
    // A commit id names itself; asking for HEAD is the access check.
    await git.run(["ls-remote", "--quiet", "--", options.url, "HEAD"]);
    return ref;
  }
  const patterns = ref === null ? ["HEAD"] : [`refs/heads/${ref}`, `refs/tags/${ref}`, `refs/tags/${ref}^{}`];
  const listed = new Map<string, string>();
  for (const line of (await git.output(["ls-remote", "--", options.url, ...patterns])).split("\n")) {
    const [sha, name] = line.split("\t");
    if (sha && name) listed.set(name, sha);
  }
  const commit = ref === null ? listed.get("HEAD") : (listed.get(`refs/heads/${ref}`) ?? listed.get(`refs/tags/${ref}^{}`) ?? listed.get(`refs/tags/${ref}`));
  if (!commit) throw new Error(ref === null ? "the remote has no default branch" : `the remote has no branch or tag named ${ref}`);
  return commit;
}

async function initClone(options: MirrorCloneOptions): Promise<void> {
  await options.local(path.dirname(options.dir)).run(["init", "--quiet", "--", options.dir]);
  const repo = options.local(options.dir);
  for (const setting of options.repoConfig) {
    const [key, value] = setting.split("=") as [string, string];
    await repo.run(["config", "--local", key, value]);
  }
}

async function fillFromMirror(options: MirrorCloneOptions, mirror: HeldMirror, wanted: string): Promise<CloneCache> {
  const inMirror = options.local(options.cache.dir);
  const git = ["--git-dir", mirror.path];
  const has = (sha: string) =>
    inMirror.run([...git, "cat-file", "-e", `${sha}^{commit}`]).then(
      () => true,
      () => false,
    );
  let cache: CloneCache = "hit";
  try {
    const bare = await inMirror.output([...git, "rev-parse", "--is-bare-repository"]).catch(() => "");
    if (bare !== "true") {
      await mirror.discard();
      await inMirror.run(["init", "--quiet", "--bare", "--template=", "--", mirror.path]);
      for (const [key, value] of MIRROR_CONFIG) await inMirror.run([...git, "config", key, value]);
      cache = "cold";
    }
    if (cache === "cold" || !(await has(wanted))) {
      const refspecs = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"];
      await options.remote(options.cache.dir).run([...git, "fetch", "--quiet", "--prune", "--no-recurse-submodules", "--", options.url, ...refspecs]);
      if (cache === "hit") cache = "miss";
    }
  } catch {
    // The remote failed mid-fetch (the mirror keeps what it had), or the mirror is broken: its
    // own branches no longer lead to objects it can read. Either way the remote serves this clone.
    if (!(await sound(inMirror, git))) await mirror.discard();
    return "fallback";
  }
  const commits: string[] = [];
  for (const sha of [wanted, options.alsoFetch]) if (sha !== undefined && (await has(sha))) commits.push(sha);
  if (commits.length === 0) return cache;
  try {
    await copyCommits(options, mirror, commits);
  } catch {
    // The mirror has the commits but cannot hand them over: it is broken. Drop it, start the clone afresh.
    await mirror.discard();
    await rm(options.dir, { recursive: true, force: true });
    await initClone(options);
    return "fallback";
  }
  return cache;
}

/**
 * Copies the objects of `commits` (their trees, not their history) from the mirror into the
 * clone: the mirror lent for the moment of a `git repack -a -d` (alternates, with the commits
 * marked as the shallow boundary), then taken back. The repack writes the borrowed objects into
 * the clone's own pack, reusing the mirror's compressed data as it is; a `--depth 1` fetch over
 * `file://` would pack them, send them through a pipe and index them again, several times slower.
 * Nothing runs in the checkout meanwhile: the CLI waits for the clone.
 */
async function copyCommits(options: MirrorCloneOptions, mirror: HeldMirror, commits: string[]): Promise<void> {
  const gitDir = path.join(options.dir, ".git");
  const alternates = path.join(gitDir, "objects", "info", "alternates");
  const clone = options.local(options.dir);
  const refs = commits.map((_, i) => `refs/codeforge/copy-${i}`);
  await writeFile(path.join(gitDir, "shallow"), `${commits.join("\n")}\n`);
  await writeFile(alternates, `${path.join(mirror.path, "objects")}\n`);
  try {
    for (const [i, sha] of commits.entries()) await clone.run(["update-ref", refs[i]!, sha]);
    // No new delta search: the mirror's packs are copied as they are, never recompressed.
    await clone.run(["-c", "pack.window=0", "repack", "-a", "-d", "-q"]);
  } finally {
    await rm(alternates, { force: true });
  }
  for (const ref of refs) await clone.run(["update-ref", "-d", ref]);
}

/** Whether the first few branches of the mirror lead to commits it can read. */
async function sound(inMirror: GitIn, git: string[]): Promise<boolean> {
  try {
    const tips = (await inMirror.output([...git, "for-each-ref", "--count=3", "--format=%(objectname)", "refs/heads/"])).split("\n").filter(Boolean);
    for (const tip of tips) await inMirror.run([...git, "cat-file", "-e", `${tip}^{commit}`]);
    return true;
  } catch {
    return false;
  }
}

/**
 * A mirror keeps what it fetches as packs (never unpacked into loose objects, whose copy would
 * have to be compressed anew: minutes for 200 MB instead of a second), and keeps its
 * housekeeping in the foreground, under its lock.
 */
const MIRROR_CONFIG: readonly [string, string][] = [
  ["fetch.unpackLimit", "1"],
  ["gc.autoDetach", "false"],
  ["core.logAllRefUpdates", "false"],
];
