/**
 * The fake GitHub's repositories: issues and pull requests (one number sequence per repository),
 * issue comments, review comments, reactions, collaborator roles and files, answered on
 * `/repos/{owner}/{repo}/…` in the shapes GitHub documents. Everything the App posts is by
 * `codeforge[bot]` (type "Bot").
 * @module
 */
import { createHash } from "node:crypto";

export type RepoRole = "admin" | "maintain" | "write" | "triage" | "read" | "none";
export type Need = [string, "read" | "write"];
export interface FakeReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export const APP_BOT_LOGIN = "codeforge[bot]";
const ISSUES_WRITE: Need[] = [
  ["issues", "write"],
  ["pull_requests", "write"],
];
const ISSUES_READ: Need[] = [
  ["issues", "read"],
  ["pull_requests", "read"],
];

interface Issue {
  number: number;
  title: string;
  body: string;
  user: string;
  createdAt: string;
  pull?: { head: string; base: string; state: "open" | "closed" };
}
interface Comment {
  id: number;
  issueNumber: number;
  body: string;
  user: string;
  userType: string;
  createdAt: string;
  updatedAt: string;
}
interface ReviewComment {
  id: number;
  pullNumber: number;
  body: string;
  user: string;
  inReplyTo?: number;
}

/** One repository's state. */
export class FakeRepo {
  readonly issues = new Map<number, Issue>();
  readonly comments: Comment[] = [];
  readonly reviewComments: ReviewComment[] = [];
  readonly reactions: { id: number; target: string; content: string; user: string }[] = [];
  readonly roles = new Map<string, RepoRole>();
  readonly files = new Map<string, string>();
  constructor(
    readonly fullName: string,
    readonly id: number,
  ) {}
  nextNumber(): number {
    return Math.max(0, ...this.issues.keys()) + 1;
  }
}

/** A user object as GitHub embeds it. */
export function userJson(login: string, type = login.endsWith("[bot]") ? "Bot" : "User") {
  const id = Number.parseInt(createHash("sha256").update(login).digest("hex").slice(0, 7), 16);
  return { login, id, node_id: `U_${id}`, type, site_admin: false, url: `/users/${encodeURIComponent(login)}` };
}

/** Answers one `/repos/{owner}/{repo}/…` request; `authorize` checks the token for the needed permission. */
export function handleRepoRequest(
  ctx: { repo: FakeRepo; baseUrl: string; nextId: () => number; now: () => string; authorize: (needs: Need[]) => FakeReply | null },
  method: string,
  rest: string[],
  query: URLSearchParams,
  body: Record<string, unknown>,
  accept: string,
): FakeReply {
  const { repo, authorize } = ctx;
  const html = `${ctx.baseUrl}/${repo.fullName}`;
  const api = `${ctx.baseUrl}/repos/${repo.fullName}`;
  const notFound: FakeReply = { status: 404, body: { message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" } };
  const num = (s: string | undefined) => (s && /^\d+$/.test(s) ? Number(s) : Number.NaN);
  const route = `${method} ${rest.map((s) => (/^\d+$/.test(s) ? ":n" : s)).join("/")}`;
  const guard = (needs: Need[]) => authorize(needs);

  const commentJson = (c: Comment) => ({
    id: c.id,
    node_id: `IC_${c.id}`,
    url: `${api}/issues/comments/${c.id}`,
    html_url: `${html}/${repo.issues.get(c.issueNumber)?.pull ? "pull" : "issues"}/${c.issueNumber}#issuecomment-${c.id}`,
    issue_url: `${api}/issues/${c.issueNumber}`,
    body: c.body,
    user: userJson(c.user, c.userType),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    author_association: c.userType === "Bot" ? "NONE" : "MEMBER",
  });
  const pullJson = (i: Issue) => ({
    id: i.number + repo.id * 1000,
    node_id: `PR_${repo.id}_${i.number}`,
    number: i.number,
    url: `${api}/pulls/${i.number}`,
    html_url: `${html}/pull/${i.number}`,
    state: i.pull!.state,
    title: i.title,
    body: i.body,
    user: userJson(i.user),
    head: { ref: i.pull!.head, label: `${repo.fullName.split("/")[0]}:${i.pull!.head}`, sha: "0".repeat(40) },
    base: { ref: i.pull!.base, label: `${repo.fullName.split("/")[0]}:${i.pull!.base}`, sha: "0".repeat(40) },
    created_at: i.createdAt,
  });
  const react = (target: string) => {
    const content = String(body.content);
    if (!["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"].includes(content)) {
      return { status: 422, body: { message: "Validation Failed", errors: [{ resource: "Reaction", code: "invalid", field: "content" }] } };
    }
    const existing = repo.reactions.find((r) => r.target === target && r.content === content && r.user === APP_BOT_LOGIN);
    const reaction = existing ?? { id: ctx.nextId(), target, content, user: APP_BOT_LOGIN };
    if (!existing) repo.reactions.push(reaction);
    return {
      status: existing ? 200 : 201,
      body: { id: reaction.id, node_id: `REA_${reaction.id}`, user: userJson(APP_BOT_LOGIN), content, created_at: ctx.now() },
    };
  };
  const addComment = (issueNumber: number) => {
    if (typeof body.body !== "string") return { status: 422, body: { message: 'Invalid request.\n\n"body" wasn\'t supplied.' } };
    const now = ctx.now();
    const c: Comment = { id: ctx.nextId(), issueNumber, body: body.body, user: APP_BOT_LOGIN, userType: "Bot", createdAt: now, updatedAt: now };
    repo.comments.push(c);
    return { status: 201, body: commentJson(c) };
  };

  if (method === "GET" && rest[0] === "collaborators" && rest[2] === "permission" && rest.length === 3) {
    const denied = guard([["metadata", "read"]]);
    if (denied) return denied;
    const role = repo.roles.get(rest[1]!.toLowerCase());
    if (!role) return notFound;
    const permission = role === "maintain" ? "write" : role === "triage" ? "read" : role;
    return { status: 200, body: { permission, role_name: role, user: userJson(rest[1]!) } };
  }
  switch (route) {
    case "POST issues/comments/:n/reactions":
      return guard(ISSUES_WRITE) ?? react(`issue_comment:${rest[2]}`);
    case "POST pulls/comments/:n/reactions":
      return guard([["pull_requests", "write"]]) ?? react(`review_comment:${rest[2]}`);
    case "POST issues/:n/reactions":
      return guard(ISSUES_WRITE) ?? (repo.issues.has(num(rest[1])) ? react(`issue:${rest[1]}`) : notFound);
    case "POST issues/:n/comments":
      return guard(ISSUES_WRITE) ?? (repo.issues.has(num(rest[1])) ? addComment(num(rest[1])) : notFound);
    case "PATCH issues/comments/:n": {
      const denied = guard(ISSUES_WRITE);
      if (denied) return denied;
      const c = repo.comments.find((x) => x.id === num(rest[2]));
      if (!c) return notFound;
      if (typeof body.body === "string") (c.body = body.body), (c.updatedAt = ctx.now());
      return { status: 200, body: commentJson(c) };
    }
    case "GET issues/:n/comments": {
      const denied = guard(ISSUES_READ);
      if (denied) return denied;
      if (!repo.issues.has(num(rest[1]))) return notFound;
      const all = repo.comments.filter((c) => c.issueNumber === num(rest[1]));
      const perPage = Math.min(Number(query.get("per_page") ?? 30) || 30, 100);
      const page = Math.max(Number(query.get("page") ?? 1) || 1, 1);
      const last = Math.max(Math.ceil(all.length / perPage), 1);
      const link = (p: number, rel: string) => `<${api}/issues/${rest[1]}/comments?per_page=${perPage}&page=${p}>; rel="${rel}"`;
      const links = [...(page > 1 ? [link(page - 1, "prev"), link(1, "first")] : []), ...(page < last ? [link(page + 1, "next"), link(last, "last")] : [])];
      return {
        status: 200,
        body: all.slice((page - 1) * perPage, page * perPage).map(commentJson),
        headers: links.length ? { link: links.join(", ") } : {},
      };
    }
    case "GET issues/:n": {
      const denied = guard(ISSUES_READ);
      if (denied) return denied;
      const i = repo.issues.get(num(rest[1]));
      if (!i) return notFound;
      return {
        status: 200,
        body: {
          id: i.number + repo.id * 1000,
          node_id: `I_${repo.id}_${i.number}`,
          number: i.number,
          url: `${api}/issues/${i.number}`,
          html_url: `${html}/${i.pull ? "pull" : "issues"}/${i.number}`,
          state: i.pull?.state ?? "open",
          title: i.title,
          body: i.body === "" ? null : i.body,
          user: userJson(i.user),
          comments: repo.comments.filter((c) => c.issueNumber === i.number).length,
          created_at: i.createdAt,
          ...(i.pull ? { pull_request: { url: `${api}/pulls/${i.number}`, html_url: `${html}/pull/${i.number}` } } : {}),
        },
      };
    }
    case "GET pulls/:n": {
      const i = repo.issues.get(num(rest[1]));
      return guard([["pull_requests", "read"]]) ?? (i?.pull ? { status: 200, body: pullJson(i) } : notFound);
    }
    case "GET pulls": {
      const denied = guard([["pull_requests", "read"]]);
      if (denied) return denied;
      const [owner, ref] = (query.get("head") ?? "").split(":");
      const state = query.get("state") ?? "open";
      const pulls = [...repo.issues.values()].filter(
        (i) => i.pull && (state === "all" || i.pull.state === state) && (!ref || (owner === repo.fullName.split("/")[0] && i.pull.head === ref)),
      );
      return { status: 200, body: pulls.map(pullJson) };
    }
    case "POST pulls": {
      const denied = guard([["pull_requests", "write"]]);
      if (denied) return denied;
      const { head, base, title } = body;
      if (typeof head !== "string" || typeof base !== "string" || typeof title !== "string") {
        return { status: 422, body: { message: "Validation Failed", errors: [{ resource: "PullRequest", code: "missing_field", field: "head" }] } };
      }
      const ref = head.includes(":") ? head.split(":")[1]! : head;
      const owner = repo.fullName.split("/")[0];
      const failed = (message: string) => ({
        status: 422,
        body: {
          message: "Validation Failed",
          errors: [{ resource: "PullRequest", code: "custom", message }],
          documentation_url: "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
          status: "422",
        },
      });
      if (ref === base) return failed(`No commits between ${base} and ${ref}`);
      if ([...repo.issues.values()].some((i) => i.pull?.state === "open" && i.pull.head === ref && i.pull.base === base)) {
        return failed(`A pull request already exists for ${owner}:${ref}.`);
      }
      const i: Issue = {
        number: repo.nextNumber(),
        title,
        body: typeof body.body === "string" ? body.body : "",
        user: APP_BOT_LOGIN,
        createdAt: ctx.now(),
        pull: { head: ref, base, state: "open" },
      };
      repo.issues.set(i.number, i);
      return { status: 201, body: pullJson(i) };
    }
    case "PATCH pulls/:n": {
      const denied = guard([["pull_requests", "write"]]);
      if (denied) return denied;
      const i = repo.issues.get(num(rest[1]));
      if (!i?.pull) return notFound;
      if (typeof body.title === "string") i.title = body.title;
      if (typeof body.body === "string") i.body = body.body;
      return { status: 200, body: pullJson(i) };
    }
    case "POST pulls/:n/comments/:n/replies": {
      const denied = guard([["pull_requests", "write"]]);
      if (denied) return denied;
      const pullNumber = num(rest[1]);
      if (!repo.issues.get(pullNumber)?.pull) return notFound;
      if (typeof body.body !== "string") return { status: 422, body: { message: 'Invalid request.\n\n"body" wasn\'t supplied.' } };
      const reply: ReviewComment = { id: ctx.nextId(), pullNumber, body: body.body, user: APP_BOT_LOGIN, inReplyTo: num(rest[3]) };
      repo.reviewComments.push(reply);
      return {
        status: 201,
        body: {
          id: reply.id,
          node_id: `PRRC_${reply.id}`,
          pull_request_review_id: reply.id,
          in_reply_to_id: reply.inReplyTo,
          url: `${api}/pulls/comments/${reply.id}`,
          html_url: `${html}/pull/${pullNumber}#discussion_r${reply.id}`,
          pull_request_url: `${api}/pulls/${pullNumber}`,
          body: reply.body,
          user: userJson(APP_BOT_LOGIN),
          created_at: ctx.now(),
        },
      };
    }
  }
  if (method === "GET" && rest[0] === "contents" && rest.length > 1) {
    const denied = guard([["contents", "read"]]);
    if (denied) return denied;
    const path = rest.slice(1).join("/");
    const content = repo.files.get(path);
    if (content === undefined) return notFound;
    if (accept.includes("raw")) return { status: 200, body: content, headers: { "content-type": "text/plain; charset=utf-8" } };
    const sha = createHash("sha1")
      .update(`blob ${Buffer.byteLength(content)}\0${content}`)
      .digest("hex");
    const base64 = Buffer.from(content).toString("base64").replace(/.{60}/g, "$&\n");
    const name = path.split("/").pop();
    return { status: 200, body: { type: "file", encoding: "base64", size: Buffer.byteLength(content), name, path, sha, content: base64 } };
  }
  return notFound;
}
