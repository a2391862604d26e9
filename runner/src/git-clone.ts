/**
 * Shallow, hardened clone of a task's repository into its workspace.
 *
 * The URL and ref are checked again here with the contract's own rules (`checkRepoUrl`,
 * `checkRef`) before any git process starts: the runner does not trust the edge with its own
 * safety. Then one commit is fetched — `--depth 1 --single-branch --branch <ref>` for a branch
 * or tag, or `init` + `fetch --depth 1 <url> <sha>` + `checkout FETCH_HEAD` for a full commit
 * id — always with `--` before the URL and path, no submodules, no tags, and only the
 * transports policy allows.
 * @module
 */
import { simpleGit, type SimpleGit } from "simple-git";
import path from "node:path";
import { checkRef, checkRepoUrl, isCommitSha } from "../../api/index.js";
import { GIT_ENV_ALLOWED, gitEnv, protocolConfig, type GitPolicy } from "./git-hardening.js";

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
  signal?: AbortSignal;
}

/** Longest git error text passed on in a task's error message. */
const CLONE_ERROR_MAX_CHARS = 1_000;

/**
 * Clones and returns the checked-out commit, the base every later diff is taken against.
 * @example
 * const { baseSha } = await cloneRepository({ url, ref, dir: ws.repoDir, homeDir: ws.homeDir, pathEnv, allowFile: false, allowSsh: false });
 */
export async function cloneRepository(options: CloneOptions): Promise<{ baseSha: string }> {
  const urlCheck = checkRepoUrl(options.url, { allowFile: options.allowFile, allowSsh: options.allowSsh });
  if (!urlCheck.ok) throw new CloneError(`repository refused: ${urlCheck.reason}`);
  if (options.ref !== null) {
    const refProblem = checkRef(options.ref);
    if (refProblem) throw new CloneError(`ref refused: ${refProblem}`);
  }

  const git = (baseDir: string): SimpleGit =>
    simpleGit({
      baseDir,
      config: protocolConfig(options),
      allowEnvironment: GIT_ENV_ALLOWED,
      // Opted in for exactly this: the overrides above narrow the transports, never widen them.
      unsafe: { allowUnsafeProtocolOverride: true },
      abort: options.signal,
    }).env(gitEnv({ path: options.pathEnv, homeDir: options.homeDir }));

  try {
    if (options.ref !== null && isCommitSha(options.ref)) {
      await git(path.dirname(options.dir)).raw(["init", "--quiet", "--", options.dir]);
      const repo = git(options.dir);
      await repo.raw(["fetch", "--quiet", "--depth", "1", "--no-tags", "--no-recurse-submodules", "--", options.url, options.ref]);
      await repo.raw(["checkout", "--quiet", "--detach", "FETCH_HEAD"]);
    } else {
      const branch = options.ref === null ? [] : ["--branch", options.ref];
      await git(path.dirname(options.dir)).raw([
        "clone", "--quiet", "--depth", "1", "--single-branch", "--no-tags", "--no-recurse-submodules",
        ...branch, "--", options.url, options.dir,
      ]);
    }
    const baseSha = (await git(options.dir).raw(["rev-parse", "--verify", "HEAD^{commit}"])).trim();
    return { baseSha };
  } catch (err) {
    if (options.signal?.aborted) throw new CloneError("clone aborted");
    const text = err instanceof Error ? err.message : String(err);
    throw new CloneError(`git could not check out ${options.url}${options.ref ? ` at ${options.ref}` : ""}: ${text.trim().slice(0, CLONE_ERROR_MAX_CHARS)}`);
  }
}
