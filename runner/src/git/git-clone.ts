/**
 * Shallow, hardened clone of a task's repository into its workspace.
 *
 * The URL and ref are checked again here with the contract's own rules (`checkRepoUrl`,
 * `checkRef`), and the host is resolved and refused when any of its addresses is on a
 * private, loopback or link-local network (`checkRepoHost`) — all before any git process
 * starts: the runner does not trust the edge with its own safety. Then one commit is fetched —
 * `--depth 1 --single-branch --branch <ref>` for a branch or tag, or `init` + `fetch --depth 1
 * <url> <sha>` + `checkout FETCH_HEAD` for a full commit id — always with `--` before the URL
 * and path, no submodules, no tags, no redirects, symlinks as plain files, connections pinned
 * to the checked addresses, and only the transports policy allows. A token reaches git only
 * through the askpass helper (`git-credentials.ts`): never the URL, argv or `.git/config`.
 *
 * With the runner's repository cache (`cache`), the clone is made from the repository's mirror
 * once the task's own access has been checked against the remote, and the remote still
 * decides what is checked out (`mirror-clone.ts`); the checkout is the same either way.
 * @module
 */
import path from "node:path";
import { checkRef, checkRepoUrl, isCommitSha } from "#api/index.js";
import { gitCredentialEnv } from "./git-credentials.js";
import { CLONE_REPO_CONFIG, FETCH_SAFETY_CONFIG, gitEnv, protocolConfig, type GitPolicy } from "./git-hardening.js";
import { cloneThroughMirror, type CloneCache } from "./mirror-clone.js";
import type { RepoCache } from "./repo-cache.js";
import { checkRepoHost, pinnedResolve, type HostLookup } from "./repo-host-check.js";
import { GitCommandError, gitOutput, runGit } from "./run-git.js";

/** The repository could not be checked out; `message` is safe to show the task's owner. */
export class CloneError extends Error {
  override name = "CloneError";
}

export interface CloneOptions extends GitPolicy {
  url: string;
  /** Branch, tag or full commit id; the remote's default branch when null. */
  ref: string | null;
  /** Must not exist yet; its parent must. */
  dir: string;
  /** `HOME` for git: an empty directory, so no user config applies. */
  homeDir: string;
  /** `PATH` for git. */
  pathEnv: string;
  /** The task's repository token, if any: handed to git through the askpass helper. */
  accessToken?: string | null;
  /** Runner-owned directory outside `dir` for the askpass helper (required with a token). */
  credentialsDir?: string;
  /** Resolves the repository host (default: the system resolver). */
  lookup?: HostLookup;
  /**
   * A further full commit id to fetch (one commit, not checked out), so later diffs can be
   * taken against it: a follow-up that starts from a pushed branch diffs against the commit
   * the task started from.
   */
  alsoFetch?: string;
  /** The runner's repository cache; without it every clone comes from the remote alone. */
  cache?: RepoCache;
  signal?: AbortSignal;
}

/** What a clone checked out, and where its objects came from. */
export interface CloneResult {
  baseSha: string;
  cache: CloneCache;
}

/** Longest git error text passed on in a task's error message. */
const CLONE_ERROR_MAX_CHARS = 1_000;

/**
 * Clones and returns the checked-out commit, the base every later diff is taken against.
 * @example
 * const { baseSha } = await cloneRepository({ url, ref, dir: ws.repoDir, homeDir: ws.homeDir, pathEnv, allowFile: false, allowSsh: false });
 */
export async function cloneRepository(options: CloneOptions): Promise<CloneResult> {
  const urlCheck = checkRepoUrl(options.url, { allowFile: options.allowFile, allowSsh: options.allowSsh });
  if (!urlCheck.ok) throw new CloneError(`repository refused: ${urlCheck.reason}`);
  if (options.ref !== null) {
    const refProblem = checkRef(options.ref);
    if (refProblem) throw new CloneError(`ref refused: ${refProblem}`);
  }
  if (options.alsoFetch !== undefined && !isCommitSha(options.alsoFetch)) throw new CloneError("alsoFetch must be a full commit id");
  const host = await checkRepoHost(options.url, { lookup: options.lookup, allowedNetworks: options.allowedNetworks });
  if (!host.ok) throw new CloneError(`repository refused: ${host.reason}`);
  if (options.signal?.aborted) throw new CloneError("clone aborted");

  if (options.accessToken && !options.credentialsDir) throw new Error("credentialsDir is required with an access token");
  const credentials = await gitCredentialEnv({ dir: options.credentialsDir ?? "", token: options.accessToken ?? null });
  const config = [...protocolConfig(options), ...FETCH_SAFETY_CONFIG, ...pinnedResolve(host).map((entry) => `http.curloptResolve=${entry}`)];
  const env = { ...gitEnv({ path: options.pathEnv, homeDir: options.homeDir, policy: options }), ...credentials };
  const git = (repoDir: string) => ({
    run: (args: string[]) => runGit({ repoDir, env, config, signal: options.signal }, args),
    output: (args: string[]) => gitOutput({ repoDir, env, config, signal: options.signal }, args),
  });
  // Git on the runner's own repositories (the mirror, the clone being filled from it): no credentials, at most the file transport.
  const localEnv = { ...gitEnv({ path: options.pathEnv, homeDir: options.homeDir }), GIT_ALLOW_PROTOCOL: "file" };
  const localConfig = ["protocol.allow=never", "protocol.file.allow=always", ...FETCH_SAFETY_CONFIG];
  const local = (repoDir: string) => ({
    run: (args: string[]) => runGit({ repoDir, env: localEnv, config: localConfig, signal: options.signal }, args),
    output: (args: string[]) => gitOutput({ repoDir, env: localEnv, config: localConfig, signal: options.signal }, args),
  });

  let cache: CloneCache = "off";
  try {
    if (options.cache) {
      const { url, ref, dir, alsoFetch, signal } = options;
      cache = await cloneThroughMirror({ cache: options.cache, url, ref, dir, alsoFetch, signal, remote: git, local, repoConfig: CLONE_REPO_CONFIG });
    } else if (options.ref !== null && isCommitSha(options.ref)) {
      await git(path.dirname(options.dir)).run(["init", "--quiet", "--", options.dir]);
      const repo = git(options.dir);
      for (const setting of CLONE_REPO_CONFIG) {
        const [key, value] = setting.split("=") as [string, string];
        await repo.run(["config", "--local", key, value]);
      }
      await repo.run(["fetch", "--quiet", "--depth", "1", "--no-tags", "--no-recurse-submodules", "--", options.url, options.ref]);
      await repo.run(["checkout", "--quiet", "--detach", "FETCH_HEAD"]);
    } else {
      const branch = options.ref === null ? [] : ["--branch", options.ref];
      await git(path.dirname(options.dir)).run([
        "clone",
        "--quiet",
        "--depth",
        "1",
        "--single-branch",
        "--no-tags",
        "--no-recurse-submodules",
        ...CLONE_REPO_CONFIG.flatMap((setting) => ["--config", setting]),
        ...branch,
        "--",
        options.url,
        options.dir,
      ]);
    }
    if (options.alsoFetch !== undefined) {
      await git(options.dir).run(["fetch", "--quiet", "--depth", "1", "--no-tags", "--no-recurse-submodules", "--", options.url, options.alsoFetch]);
    }
    const baseSha = await git(options.dir).output(["rev-parse", "--verify", "HEAD^{commit}"]);
    return { baseSha, cache };
  } catch (err) {
    if (options.signal?.aborted) throw new CloneError("clone aborted");
    const text = err instanceof GitCommandError ? err.stderr : err instanceof Error ? err.message : String(err);
    throw new CloneError(`git could not check out ${options.url}${options.ref ? ` at ${options.ref}` : ""}: ${text.trim().slice(0, CLONE_ERROR_MAX_CHARS)}`);
  }
}
