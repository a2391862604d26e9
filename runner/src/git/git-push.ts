/**
 * Commits what the CLI changed and pushes it to the task's branch, without ever letting the
 * token meet anything the CLI could have touched.
 *
 * The commit: everything is staged (as `git-result.ts` does), and one commit is made with
 * `commit-tree` whose tree is the staged tree and whose parent is the commit that was checked
 * out — so the pushed commit is exactly the reported change, even when the CLI made commits of
 * its own (they are folded in). Author and committer are the runner's configured identity,
 * not whatever the CLI wrote into `.git/config`; signing, hooks and fsmonitor are off. No token
 * is in these processes' environment.
 *
 * The push: the checkout's `.git/config` is the CLI's to edit (`url.*.insteadOf`,
 * `credential.helper`, `http.proxy`, `core.sshCommand`, a new `pushurl`…), so the process that
 * holds the token must not read it. The push runs from a bare repository the runner creates in
 * its own directory (outside the checkout), which borrows the checkout's objects through
 * `objects/info/alternates` (plus its `shallow` list: the clone is shallow) and has a config
 * only the runner wrote. Like the clone, the push gets the URL and branch checked again, the
 * host resolved, refused when private and pinned, only the allowed transports, no redirects,
 * and the token only through the askpass helper (`git-credentials.ts`) — never in the URL, argv
 * or any `.git/config`. It is never a force push: a remote branch that is not an ancestor of
 * the new commit makes git refuse, and the task fails with `push_failed` saying so.
 * @module
 */
import { execa } from "execa";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { checkBranchName, checkRepoUrl, type PushResult } from "#api/index.js";
import { gitCredentialEnv } from "./git-credentials.js";
import { CHECKOUT_SAFETY_CONFIG, CHECKOUT_SAFETY_ENV, FETCH_SAFETY_CONFIG, gitEnv, protocolConfig, type GitPolicy } from "./git-hardening.js";
import { checkRepoHost, pinnedResolve, type HostLookup } from "./repo-host-check.js";

/** The commit could not be made or pushed; `message` is safe to show the task's owner (after masking). */
export class PushError extends Error {
  override name = "PushError";
}

/** Who the runner's commits are by (author and committer). */
export interface CommitIdentity {
  name: string;
  email: string;
}

export interface PushOptions extends GitPolicy {
  /** The checkout the CLI worked in. */
  repoDir: string;
  /** The commit checked out before the CLI ran: the new commit's parent. */
  baseSha: string;
  /** The task's repository URL (pushed to directly, not through the checkout's `origin`). */
  url: string;
  branch: string;
  message: string;
  identity: CommitIdentity;
  /** `PATH` for git. */
  pathEnv: string;
  /** Runner-owned directory outside `repoDir`: the push repository and the askpass helper go here. */
  runnerDir: string;
  /** The task's repository token, if any: handed to git through the askpass helper. */
  accessToken: string | null;
  /** Resolves the repository host (default: the system resolver). */
  lookup?: HostLookup;
  signal?: AbortSignal;
}

/** Longest git error text passed on in a task's error message. */
const PUSH_ERROR_MAX_CHARS = 1_000;

/** Output kept from one git process: its answers are a line or two. */
const GIT_OUTPUT_MAX_BYTES = 1_048_576;

/** Settings for commands run in the checkout while committing (on top of `CHECKOUT_SAFETY_CONFIG`). */
const COMMIT_CONFIG = ["commit.gpgSign=false", "i18n.commitEncoding=UTF-8"] as const;

/**
 * Commits the checkout's changes on top of `baseSha` and pushes the commit to `branch`.
 * Returns null, pushing nothing, when the tree is the same as the base commit's.
 * @example
 * const pushed = await commitAndPush({ repoDir: ws.repoDir, baseSha, url, branch: "codeforge/tsk_…", message, identity, pathEnv, runnerDir: ws.runnerDir, accessToken, allowFile, allowSsh });
 */
export async function commitAndPush(options: PushOptions): Promise<PushResult | null> {
  const branchProblem = checkBranchName(options.branch);
  if (branchProblem) throw new PushError(`branch refused: ${branchProblem}`);
  const urlCheck = checkRepoUrl(options.url, { allowFile: options.allowFile, allowSsh: options.allowSsh });
  if (!urlCheck.ok) throw new PushError(`repository refused: ${urlCheck.reason}`);

  await mkdir(homeFor(options), { recursive: true });
  const sha = await commitChanges(options);
  if (sha === null) return null;
  await pushCommit(options, sha);
  return { branch: options.branch, commit_sha: sha };
}

/** Makes the commit in the checkout; null when nothing changed. Never sees the token. */
async function commitChanges(options: PushOptions): Promise<string | null> {
  const env = checkoutEnv(options);
  const config = configArgs([...CHECKOUT_SAFETY_CONFIG, ...COMMIT_CONFIG]);
  const must = async (what: string, args: string[]) => {
    const result = await runGit([...config, ...args], { cwd: options.repoDir, env, signal: options.signal });
    if (result.exitCode !== 0) throw new PushError(`could not ${what}: ${gitError(result.stderr)}`);
    return result.stdout.trim();
  };

  await must("stage the changes", ["add", "--all", "--", "."]);
  const tree = await must("write the tree", ["write-tree"]);
  const baseTree = await must("read the base commit", ["rev-parse", "--verify", "--end-of-options", `${options.baseSha}^{tree}`]);
  if (tree === baseTree) return null;
  const identity = {
    GIT_AUTHOR_NAME: options.identity.name,
    GIT_AUTHOR_EMAIL: options.identity.email,
    GIT_COMMITTER_NAME: options.identity.name,
    GIT_COMMITTER_EMAIL: options.identity.email,
  };
  const commit = await runGit([...config, "commit-tree", "--no-gpg-sign", "-p", options.baseSha, "-F", "-", tree], {
    cwd: options.repoDir,
    env: { ...env, ...identity },
    input: options.message,
    signal: options.signal,
  });
  if (commit.exitCode !== 0) throw new PushError(`could not commit the changes: ${gitError(commit.stderr)}`);
  return commit.stdout.trim();
}

/** Pushes `sha` from a runner-owned bare repository that borrows the checkout's objects. */
async function pushCommit(options: PushOptions, sha: string): Promise<void> {
  const host = await checkRepoHost(options.url, { lookup: options.lookup, allowedNetworks: options.allowedNetworks });
  if (!host.ok) throw new PushError(`repository refused: ${host.reason}`);

  const gitDir = await runGit([...configArgs(CHECKOUT_SAFETY_CONFIG), "rev-parse", "--absolute-git-dir"], {
    cwd: options.repoDir,
    env: checkoutEnv(options),
    signal: options.signal,
  });
  if (gitDir.exitCode !== 0) throw new PushError(`could not find the checkout's repository: ${gitError(gitDir.stderr)}`);
  const checkoutGitDir = gitDir.stdout.trim();

  const pushRepo = path.join(options.runnerDir, "push.git");
  const baseEnv = { ...gitEnv({ path: options.pathEnv, homeDir: homeFor(options), policy: options }), ...CHECKOUT_SAFETY_ENV };
  const init = await runGit(["init", "--quiet", "--bare", "--", pushRepo], { cwd: options.runnerDir, env: baseEnv, signal: options.signal });
  if (init.exitCode !== 0) throw new PushError(`could not prepare the push: ${gitError(init.stderr)}`);
  await writeFile(path.join(pushRepo, "objects", "info", "alternates"), `${path.join(checkoutGitDir, "objects")}\n`);
  const shallow = await readFile(path.join(checkoutGitDir, "shallow"), "utf8").catch(() => null);
  if (shallow !== null) await writeFile(path.join(pushRepo, "shallow"), shallow);

  const credentials = await gitCredentialEnv({ dir: options.runnerDir, token: options.accessToken });
  const config = configArgs([...protocolConfig(options), ...FETCH_SAFETY_CONFIG, ...pinnedResolve(host).map((entry) => `http.curloptResolve=${entry}`)]);
  const push = await runGit([...config, "push", "--porcelain", "--no-verify", "--", options.url, `${sha}:refs/heads/${options.branch}`], {
    cwd: pushRepo,
    env: { ...baseEnv, ...credentials },
    signal: options.signal,
  });
  if (push.canceled) throw new PushError("push aborted");
  if (push.exitCode !== 0) throw new PushError(describePushFailure(options.branch, push.stdout, push.stderr));
}

/** Turns git's porcelain and stderr into a message that says what to do. */
export function describePushFailure(branch: string, stdout: string, stderr: string): string {
  const refLine = stdout.split("\n").find((line) => line.startsWith("!\t"));
  const reason = refLine?.split("\t")[2] ?? "";
  if (/\((fetch first|non-fast-forward|stale info)\)/.test(reason)) {
    return `branch '${branch}' already exists on the remote with commits this task's change does not build on; CodeForge never force-pushes: choose another branch, or delete or merge the remote one`;
  }
  if (reason.startsWith("[remote rejected]")) {
    const why = reason.replace(/^\[remote rejected\]\s*/, "").replace(/^\((.*)\)$/, "$1");
    // `a/b` cannot exist beside a branch `a` (nor `a` beside `a/b`): git stores them as a file and a folder.
    const hint =
      why === "failed to update ref" && branch.includes("/")
        ? ` (is there a branch named '${branch.split("/")[0]}'? A branch cannot also be a folder of branches)`
        : "";
    return `the remote refused the push to '${branch}': ${why}${hint}`;
  }
  if (/Authentication failed|could not read (Username|Password)|terminal prompts disabled|returned error: 40[13]|Permission denied|403|401/i.test(stderr)) {
    return `the remote refused the push to '${branch}': check that the task's access_token may write to the repository (${gitError(stderr)})`;
  }
  return `git could not push to '${branch}': ${gitError(stderr || stdout)}`;
}

/** `HOME` for these git processes: runner-owned and empty (the workspace's home is the CLI's). */
function homeFor(options: PushOptions): string {
  return path.join(options.runnerDir, "push-home");
}

/** Environment for git commands in the checkout: no token, no user or system config. */
function checkoutEnv(options: PushOptions): Record<string, string> {
  return { ...gitEnv({ path: options.pathEnv, homeDir: homeFor(options) }), ...CHECKOUT_SAFETY_ENV };
}

function configArgs(settings: readonly string[]): string[] {
  return settings.flatMap((setting) => ["-c", setting]);
}

function gitError(text: string): string {
  return (
    text
      .trim()
      .replace(/\s*\n\s*/g, "; ")
      .slice(0, PUSH_ERROR_MAX_CHARS) || "no details"
  );
}

interface GitRun {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  canceled: boolean;
}

async function runGit(args: string[], options: { cwd: string; env: Record<string, string>; input?: string; signal?: AbortSignal }): Promise<GitRun> {
  const result = await execa("git", args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    ...(options.input === undefined ? { stdin: "ignore" as const } : { input: options.input }),
    reject: false,
    maxBuffer: GIT_OUTPUT_MAX_BYTES,
    cancelSignal: options.signal,
  });
  return {
    exitCode: result.exitCode,
    stdout: typeof result.stdout === "string" ? result.stdout : "",
    stderr: typeof result.stderr === "string" ? result.stderr : "",
    canceled: result.isCanceled,
  };
}
