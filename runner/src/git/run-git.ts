/**
 * The one way the runner runs a git command on a repository: `execa`, an argv array, a clean
 * environment, stdout streamed.
 *
 * Every command gets the checkout safety settings (`git-hardening.ts`: no fsmonitor command, no
 * hooks, no global config), since it may run in a checkout the CLI has had its hands on. Output
 * is never held whole: stdout goes to `onData` piece by piece (which may stop git early), and
 * only the first 2 KiB of stderr are kept, for the error.
 * @module
 */
import { execa } from "execa";
import { CHECKOUT_SAFETY_CONFIG, CHECKOUT_SAFETY_ENV } from "./git-hardening.js";

export interface RunGitOptions {
  /** The directory git runs in. */
  repoDir: string;
  /** Environment for git (see `gitEnv`); nothing is inherited from the runner. */
  env: Record<string, string>;
  /** `-c` settings (without the `-c`) on top of the checkout safety settings. */
  config?: readonly string[];
  /** Stops git (and makes the call fail) when aborted. */
  signal?: AbortSignal;
}

/** Git exited with a failure; `stderr` is what it said (its first 2 KiB). */
export class GitCommandError extends Error {
  override name = "GitCommandError";
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

const STDERR_KEEP_BYTES = 2_048;

/**
 * Runs git, streaming its stdout to `onData`, which may stop it early; throws a
 * `GitCommandError` when git fails (not when `onData` stopped it).
 * @example
 * await runGit({ repoDir, env: gitEnv({ path, homeDir }) }, ["add", "--all", "--", "."]);
 */
export async function runGit(options: RunGitOptions, args: string[], onData?: (chunk: Buffer) => "stop" | void): Promise<void> {
  const config = [...CHECKOUT_SAFETY_CONFIG, ...(options.config ?? [])].flatMap((setting) => ["-c", setting]);
  const child = execa("git", [...config, ...args], {
    cwd: options.repoDir,
    env: { ...options.env, ...CHECKOUT_SAFETY_ENV },
    extendEnv: false,
    stdin: "ignore",
    buffer: false,
    reject: false,
    cancelSignal: options.signal,
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    if (stderr.length < STDERR_KEEP_BYTES) stderr += chunk.toString("utf8").slice(0, STDERR_KEEP_BYTES - stderr.length);
  });
  let stopped = false;
  if (child.stdout) {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      if (stopped) continue;
      if (onData?.(chunk) === "stop") {
        stopped = true;
        child.kill("SIGTERM");
      }
    }
  }
  const result = await child;
  if (!stopped && result.exitCode !== 0) {
    throw new GitCommandError(`git ${args[0]} failed (${result.exitCode ?? result.signal ?? result.code}): ${stderr.trim()}`, stderr);
  }
}

/** Runs git and returns its stdout, trimmed (for short answers such as `rev-parse`). */
export async function gitOutput(options: RunGitOptions, args: string[]): Promise<string> {
  const chunks: Buffer[] = [];
  await runGit(options, args, (chunk) => {
    chunks.push(chunk);
  });
  return Buffer.concat(chunks).toString("utf8").trim();
}
