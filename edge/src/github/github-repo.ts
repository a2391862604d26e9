/**
 * The calls CodeForge makes on one repository: who may trigger, reactions, comments, the issue
 * and pull request, `.codeforge.yml`. Each authenticates with an installation token scoped to
 * this repository, handed in by `GitHubApp.repo()`; a token GitHub no longer accepts (401) is
 * dropped and the call retried once with a fresh one.
 * @module
 */
import { GitHubApiError, type GitHubResponse, type GitHubSend } from "./github-request.js";

export type RepoRole = "admin" | "maintain" | "write" | "triage" | "read" | "none";
export type ReactionContent = "eyes" | "confused" | "+1" | "rocket" | "-1";
export type ReactionTarget = { issueComment: number } | { reviewComment: number } | { issue: number };

/** Files read through the API (`.codeforge.yml`) are small; a bigger one is refused, not truncated. */
export const FILE_MAX_BYTES = 64 * 1024;
/** GitHub pages hold at most 100 items. */
const PAGE_MAX = 100;
const ROLES: readonly RepoRole[] = ["admin", "maintain", "write", "triage", "read", "none"];

/** The installation token for this repository, and a way to drop it once GitHub refuses it. */
export interface RepoTokenSource {
  token(): Promise<string>;
  invalidate(): void;
}

interface GitHubUser {
  login: string;
  type: string;
}
interface IssueComment {
  id: number;
  html_url: string;
  body?: string | null;
  user: GitHubUser | null;
  created_at: string;
}
interface PullRequest {
  number: number;
  html_url: string;
  title: string;
  body: string | null;
  head: { ref: string };
  base: { ref: string };
}

/** A client for one repository; build it with `GitHubApp.repo()`. */
export class GitHubRepo {
  readonly owner: string;
  readonly name: string;
  readonly #send: GitHubSend;
  readonly #auth: RepoTokenSource;

  constructor(owner: string, name: string, send: GitHubSend, auth: RepoTokenSource) {
    this.owner = owner;
    this.name = name;
    this.#send = send;
    this.#auth = auth;
  }

  /** The user's role on the repository (`role_name`, else `permission`); "none" when GitHub does not know them (404). */
  async permission(username: string): Promise<RepoRole> {
    try {
      const { data } = await this.#call<{ role_name?: string; permission?: string }>("GET /repos/{owner}/{repo}/collaborators/{username}/permission", {
        username,
      });
      const role = [data.role_name, data.permission].find((r): r is RepoRole => ROLES.includes(r as RepoRole));
      return role ?? "none";
    } catch (err) {
      if (err instanceof GitHubApiError && err.status === 404) return "none";
      throw err;
    }
  }

  /** Reacts to an issue comment, a pull request review comment or the issue itself; reacting twice is not an error. */
  async addReaction(target: ReactionTarget, content: ReactionContent): Promise<void> {
    if ("issueComment" in target) {
      await this.#call("POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", { comment_id: target.issueComment, content });
    } else if ("reviewComment" in target) {
      await this.#call("POST /repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions", { comment_id: target.reviewComment, content });
    } else {
      await this.#call("POST /repos/{owner}/{repo}/issues/{issue_number}/reactions", { issue_number: target.issue, content });
    }
  }

  /** Comments on an issue or pull request; `url` is the comment's page on GitHub. */
  async createComment(issueNumber: number, body: string): Promise<{ id: number; url: string }> {
    const { data } = await this.#call<IssueComment>("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", { issue_number: issueNumber, body });
    return { id: data.id, url: data.html_url };
  }

  async updateComment(commentId: number, body: string): Promise<void> {
    await this.#call("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", { comment_id: commentId, body });
  }

  /** Answers in a review comment's thread. */
  async replyToReviewComment(pullNumber: number, commentId: number, body: string): Promise<{ id: number; url: string }> {
    const { data } = await this.#call<IssueComment>("POST /repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies", {
      pull_number: pullNumber,
      comment_id: commentId,
      body,
    });
    return { id: data.id, url: data.html_url };
  }

  /**
   * The newest `limit` comments (default 30, at most 100), oldest first. GitHub lists issue comments
   * oldest first with no way to reverse, so this reads the last page (and the one before it when
   * the last is short) named by the `Link` header.
   */
  async listComments(issueNumber: number, options: { limit?: number } = {}) {
    const limit = Math.min(Math.max(Math.trunc(options.limit ?? 30), 1), PAGE_MAX);
    const route = "GET /repos/{owner}/{repo}/issues/{issue_number}/comments";
    const page = (n: number) => this.#call<IssueComment[]>(route, { issue_number: issueNumber, per_page: limit, page: n });
    const first = await page(1);
    const last = lastPage(first.headers.link);
    let comments = first.data;
    if (last > 1) {
      const [before, final] = await Promise.all([last - 1 > 1 ? page(last - 1) : first, page(last)]);
      comments = [...before.data, ...final.data];
    }
    return comments.slice(-limit).map((c) => ({
      id: c.id,
      user: c.user?.login ?? "ghost",
      userType: c.user?.type ?? "User",
      body: c.body ?? "",
      createdAt: c.created_at,
    }));
  }

  /** An issue's text; pull requests are issues too (`isPullRequest`). */
  async getIssue(issueNumber: number): Promise<{ title: string; body: string; user: string; isPullRequest: boolean }> {
    const { data } = await this.#call<{ title: string; body?: string | null; user: GitHubUser | null; pull_request?: unknown }>(
      "GET /repos/{owner}/{repo}/issues/{issue_number}",
      { issue_number: issueNumber },
    );
    return { title: data.title, body: data.body ?? "", user: data.user?.login ?? "ghost", isPullRequest: data.pull_request != null };
  }

  async getPullRequest(pullNumber: number): Promise<{ number: number; url: string; headRef: string; baseRef: string; body: string; title: string }> {
    const { data } = await this.#call<PullRequest>("GET /repos/{owner}/{repo}/pulls/{pull_number}", { pull_number: pullNumber });
    return { number: data.number, url: data.html_url, headRef: data.head.ref, baseRef: data.base.ref, body: data.body ?? "", title: data.title };
  }

  /**
   * Opens a pull request from `head` into `base`. When one is already open for `head` (GitHub
   * answers 422), returns that one with `created: false` instead of failing.
   */
  async openPullRequest(pr: { head: string; base: string; title: string; body: string }): Promise<{ number: number; url: string; created: boolean }> {
    try {
      const { data } = await this.#call<PullRequest>("POST /repos/{owner}/{repo}/pulls", { ...pr });
      return { number: data.number, url: data.html_url, created: true };
    } catch (err) {
      if (!(err instanceof GitHubApiError) || err.status !== 422 || !/already exists/i.test(err.detail)) throw err;
      const head = pr.head.includes(":") ? pr.head : `${this.owner}:${pr.head}`;
      const { data } = await this.#call<PullRequest[]>("GET /repos/{owner}/{repo}/pulls", { head, state: "open", per_page: 1 });
      const existing = data[0];
      if (!existing) throw err;
      return { number: existing.number, url: existing.html_url, created: false };
    }
  }

  async updatePullRequest(pullNumber: number, fields: { title?: string; body?: string }): Promise<void> {
    await this.#call("PATCH /repos/{owner}/{repo}/pulls/{pull_number}", { pull_number: pullNumber, ...fields });
  }

  /**
   * A file's text at `ref` (default branch when omitted); null when there is no such file (404) or
   * the path is a directory. Files over `FILE_MAX_BYTES` are refused with a `GitHubApiError` (413).
   */
  async readFile(path: string, ref?: string): Promise<string | null> {
    const route = "GET /repos/{owner}/{repo}/contents/{+path}";
    let response: GitHubResponse<unknown>;
    try {
      response = await this.#call(
        route,
        { path: path.replace(/^\/+/, ""), ...(ref ? { ref } : {}), headers: { accept: "application/vnd.github.raw+json" } },
        { rawBody: true },
      );
    } catch (err) {
      if (err instanceof GitHubApiError && err.status === 404) return null;
      throw err;
    }
    const bytes = await readCapped(response.data, route);
    const text = new TextDecoder().decode(bytes);
    if (!String(response.headers["content-type"] ?? "").startsWith("application/json")) {
      if (bytes.byteLength > FILE_MAX_BYTES) throw new GitHubApiError(route, 413, `file larger than ${FILE_MAX_BYTES} bytes`);
      return text;
    }
    // A server that ignores the raw media type answers with the JSON description instead.
    const meta = JSON.parse(text) as { type?: string; encoding?: string; content?: string; size?: number };
    if (meta.type !== "file" || typeof meta.content !== "string") return null;
    if ((meta.size ?? 0) > FILE_MAX_BYTES) throw new GitHubApiError(route, 413, `file larger than ${FILE_MAX_BYTES} bytes`);
    const binary = atob(meta.content.replace(/\s/g, ""));
    return new TextDecoder().decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0)));
  }

  async #call<T>(route: string, params: Record<string, unknown>, options?: { rawBody?: boolean }): Promise<GitHubResponse<T>> {
    const repoParams = { owner: this.owner, repo: this.name, ...params };
    try {
      return await this.#send<T>(route, repoParams, `token ${await this.#auth.token()}`, options);
    } catch (err) {
      if (!(err instanceof GitHubApiError) || err.status !== 401) throw err;
      this.#auth.invalidate();
      return await this.#send<T>(route, repoParams, `token ${await this.#auth.token()}`, options);
    }
  }
}

/** The `page` of the `rel="last"` link, or 1 when there is a single page. */
function lastPage(link: string | number | undefined): number {
  const match = typeof link === "string" ? /<([^>]+)>;\s*rel="last"/.exec(link) : null;
  if (!match) return 1;
  const page = Number(new URL(match[1]!).searchParams.get("page"));
  return Number.isInteger(page) && page > 0 ? page : 1;
}

/** Reads a response body (a stream, or text when it was parsed anyway) up to the cap. */
async function readCapped(body: unknown, route: string): Promise<Uint8Array> {
  const tooBig = () => new GitHubApiError(route, 413, `file larger than ${FILE_MAX_BYTES} bytes`);
  if (typeof body === "string") {
    const bytes = new TextEncoder().encode(body);
    if (bytes.length > FILE_MAX_BYTES * 2) throw tooBig();
    return bytes;
  }
  if (!body || typeof (body as ReadableStream).getReader !== "function") return new Uint8Array();
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    // The JSON form carries base64 (4/3 the size) plus metadata: allow it room, check `size` after.
    if (total > FILE_MAX_BYTES * 2) {
      await reader.cancel();
      throw tooBig();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) out.set(chunk, offset), (offset += chunk.byteLength);
  return out;
}
