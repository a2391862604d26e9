/**
 * The repository and branch `codeforge submit` takes when run inside a git checkout without
 * `--repo`/`--ref`: the checkout's `origin` and its current branch, as `gh` does.
 *
 * An origin that is a path becomes a `file://` URL (what the edge accepts in local mode); one
 * with credentials in it loses them (the API refuses them, and they must not be printed).
 * @module
 */
import { execFile } from "node:child_process";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";

/** Runs git with `args` in `cwd`; resolves with its stdout, rejects when it fails. */
export type RunGit = (args: string[], cwd: string) => Promise<string>;

export const runGit: RunGit = (args, cwd) =>
  new Promise((done, fail) => {
    execFile("git", args, { cwd, encoding: "utf8", timeout: 10_000 }, (error, stdout) => (error ? fail(error) : done(stdout.trim())));
  });

/** `user@host:path`: git's scp-like ssh form. */
const SCP_LIKE = /^[^/:@\s]+@[^/:\s]+:/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

export interface OriginUrl {
  url: string;
  /** Whether a user name or password in the origin URL was left out. */
  credentialsRemoved: boolean;
}

/**
 * The URL to hand the API for an origin as `git remote get-url origin` prints it; `root` is
 * the checkout's top directory, which a relative path is taken from.
 */
export function normalizeOriginUrl(origin: string, root: string): OriginUrl {
  if (SCP_LIKE.test(origin)) return { url: origin, credentialsRemoved: false };
  if (SCHEME.test(origin)) {
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      return { url: origin, credentialsRemoved: false }; // the edge names what is wrong with it
    }
    // ssh://git@host/… keeps its user (it is no secret); an https user or any password goes.
    const removeUser = parsed.username !== "" && parsed.protocol !== "ssh:";
    if (!removeUser && parsed.password === "") return { url: origin, credentialsRemoved: false };
    if (removeUser) parsed.username = "";
    parsed.password = "";
    return { url: parsed.href, credentialsRemoved: true };
  }
  const path = origin.startsWith("file:") ? origin.slice("file:".length) : origin;
  return { url: pathToFileURL(isAbsolute(path) ? path : resolve(root, path)).href, credentialsRemoved: false };
}

export interface CheckoutDefaults extends OriginUrl {
  /** The current branch; null on a detached HEAD. */
  ref: string | null;
}

/** The origin and branch of the checkout `cwd` is in; null outside a checkout or without an origin. */
export async function checkoutDefaults(cwd: string, git: RunGit = runGit): Promise<CheckoutDefaults | null> {
  let origin: string;
  let root: string;
  try {
    root = await git(["rev-parse", "--show-toplevel"], cwd);
    origin = await git(["remote", "get-url", "origin"], cwd);
  } catch {
    return null; // not a checkout, or no origin: the caller asks for --repo
  }
  if (!origin) return null;
  let ref: string | null = null;
  try {
    const branch = await git(["rev-parse", "--abbrev-ref", "HEAD"], cwd);
    ref = branch && branch !== "HEAD" ? branch : null;
  } catch {
    // No commit yet: no branch to start from, the remote's HEAD is used.
  }
  return { ...normalizeOriginUrl(origin, root), ref };
}
