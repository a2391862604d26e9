/**
 * Which repository URLs and refs CodeForge will touch.
 *
 * The edge checks a task's repository at submission so a user hears "no" at once, and the
 * runner checks again before any git process starts, because the runner must not trust the
 * edge with its own safety. Both call these functions.
 * @module
 */

/** The transports a repository URL may use. `file` exists only for local development. */
export type RepoScheme = "https" | "ssh" | "file";

export type RepoUrlCheck = { ok: true; scheme: RepoScheme } | { ok: false; reason: string };

export interface RepoUrlPolicy {
  /** Accept `file://` URLs (local mode only: `npm start`, tests). */
  allowFile: boolean;
  /** Accept `ssh://` and `user@host:path` URLs. */
  allowSsh: boolean;
}

// scp-like syntax: user@host:path (no scheme). Path must not start with '-' or '/'-less tricks.
const SCP_LIKE = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._~/-][A-Za-z0-9._~/+-]*$/;
// Anything outside printable ASCII or with spaces has no place in a URL we hand to git.
const UNSAFE_CHARS = /[\s\x00-\x1f\x7f"'`\\]/;

/** Decides whether git may be pointed at `url` under `policy`. */
export function checkRepoUrl(url: string, policy: RepoUrlPolicy): RepoUrlCheck {
  if (url.length === 0) return { ok: false, reason: "repository URL is empty" };
  if (url.startsWith("-")) return { ok: false, reason: "repository URL must not start with '-'" };
  if (UNSAFE_CHARS.test(url)) {
    return { ok: false, reason: "repository URL contains whitespace, quotes or control characters" };
  }
  if (url.includes("::")) return { ok: false, reason: "git remote helpers (such as ext::) are not allowed" };

  if (SCP_LIKE.test(url)) {
    return policy.allowSsh ? { ok: true, scheme: "ssh" } : { ok: false, reason: "ssh repositories are not enabled" };
  }

  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: "repository URL is not a valid URL (use https://host/owner/repo.git)" };
  }
  switch (parsed.protocol) {
    case "https:":
      if (parsed.username || parsed.password) {
        return { ok: false, reason: "repository URL must not contain credentials" };
      }
      if (!parsed.hostname) return { ok: false, reason: "repository URL has no host" };
      return { ok: true, scheme: "https" };
    case "ssh:":
      if (parsed.password) return { ok: false, reason: "repository URL must not contain a password" };
      if (!policy.allowSsh) return { ok: false, reason: "ssh repositories are not enabled" };
      return { ok: true, scheme: "ssh" };
    case "file:":
      if (!policy.allowFile) return { ok: false, reason: "file:// repositories are only accepted in local mode" };
      if (parsed.host !== "") return { ok: false, reason: "file:// URLs must not name a host" };
      return { ok: true, scheme: "file" };
    default:
      return { ok: false, reason: `repository URL scheme ${parsed.protocol} is not allowed (use https)` };
  }
}

const FULL_SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** True when `ref` is a full commit id rather than a branch or tag name. */
export function isCommitSha(ref: string): boolean {
  return FULL_SHA.test(ref);
}

/**
 * Checks a branch, tag or commit name the way `git check-ref-format` would, plus the rule
 * that matters most here: nothing that git could read as an option.
 */
export function checkRef(ref: string): string | null {
  if (ref.length === 0 || ref.length > 255) return "ref must be 1 to 255 characters";
  if (ref.startsWith("-")) return "ref must not start with '-'";
  if (isCommitSha(ref)) return null;
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(ref)) return "ref contains a character git does not allow";
  if (ref.includes("..") || ref.includes("@{") || ref.includes("//")) return "ref contains '..', '@{' or '//'";
  if (ref.startsWith("/") || ref.endsWith("/") || ref.endsWith(".") || ref.endsWith(".lock")) {
    return "ref must not start or end with '/', or end with '.' or '.lock'";
  }
  if (ref.split("/").some((part) => part.startsWith("."))) return "no part of a ref may start with '.'";
  return null;
}
