/**
 * A fake GitHub for tests: a real HTTP server on 127.0.0.1 answering the REST endpoints the
 * GitHub App uses (installation tokens, collaborator permission, reactions, comments, issues, pull
 * requests, contents) in GitHub's documented shapes, with real App JWT verification and scoped
 * installation tokens; plus signed webhook delivery the way GitHub sends it. Requests cross a real
 * socket, so the client under test runs exactly as it does against GitHub.
 *
 * Reactions and review-comment replies accept comment ids the fake has not seen (the comments
 * that trigger work come from webhook payloads, not from the fake); issues and pull requests must
 * exist (`addIssue`, or opened through the API).
 * @module
 */
import { createHmac, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { generateAppKeys, type IssuedToken, TokenStore, verifyAppJwt } from "./fake-github-auth.js";
import { FakeRepo, type FakeReply, handleRepoRequest, type RepoRole } from "./fake-github-repos.js";

export type { RepoRole } from "./fake-github-repos.js";
export { APP_BOT_LOGIN } from "./fake-github-repos.js";

export interface FakeGitHubCall {
  method: string;
  /** Path and query, as sent. */
  path: string;
  body: unknown;
  at: number;
}

export interface FakeGitHub {
  url: string;
  appId: string;
  /** PKCS#1 ("BEGIN RSA PRIVATE KEY"), as GitHub hands it out. */
  privateKeyPem: string;
  webhookSecret: string;
  installationId: number;
  /** Every request, in order (authorization values are never recorded). */
  calls: FakeGitHubCall[];
  tokens: IssuedToken[];
  /** A user's role on a repository; users never given one get 404 from the permission endpoint. */
  setRole(repoFullName: string, user: string, role: RepoRole): void;
  setFile(repoFullName: string, path: string, content: string): void;
  addIssue(
    repoFullName: string,
    issue: { number: number; title: string; body: string; user: string; pullRequest?: { headRef: string; baseRef: string } },
  ): void;
  /** A comment by someone else (the App's own come through the API); returns its id. */
  addComment(repoFullName: string, issueNumber: number, comment: { body: string; user: string; userType?: string; id?: number }): number;
  comments(repoFullName: string, issueNumber: number): { id: number; body: string; user: string }[];
  /** Replies posted in review threads: `inReplyTo` is the review comment answered. */
  reviewComments(repoFullName: string, pullNumber: number): { id: number; body: string; user: string; inReplyTo?: number }[];
  /** `target` is `issue_comment:<id>`, `review_comment:<id>` or `issue:<number>`. */
  reactions(repoFullName: string): { target: string; content: string; user: string }[];
  pulls(repoFullName: string): { number: number; head: string; base: string; title: string; body: string; url: string }[];
  /** Moves the fake's clock (JWT checks, token expiry) forward, to test expiry without waiting. */
  advanceClock(ms: number): void;
  waitFor<T>(probe: () => T | undefined | null | false, timeoutMs?: number): Promise<T>;
  sign(body: string): string;
  deliver(
    webhookUrl: string,
    event: string,
    payload: unknown,
    options?: { delivery?: string; signature?: string | null; headers?: Record<string, string> },
  ): Promise<Response>;
  close(): Promise<void>;
}

const BODY_MAX_BYTES = 10 * 1024 * 1024;

/** Starts a fake GitHub on a free port. */
export async function startFakeGitHub(options: { installationId?: number; appId?: string; webhookSecret?: string } = {}): Promise<FakeGitHub> {
  const appId = options.appId ?? "424242";
  const installationId = options.installationId ?? 7_000_001;
  const webhookSecret = options.webhookSecret ?? `whsec-${randomUUID()}`;
  const { privateKeyPem, publicKey } = await generateAppKeys();
  const tokenStore = new TokenStore();
  const calls: FakeGitHubCall[] = [];
  const repos = new Map<string, FakeRepo>();
  let clockOffsetMs = 0;
  const now = () => Date.now() + clockOffsetMs;
  let lastId = 1_000_000;
  const nextId = () => ++lastId;
  const repoFor = (fullName: string) => {
    const key = fullName.toLowerCase();
    let repo = repos.get(key);
    if (!repo) repos.set(key, (repo = new FakeRepo(fullName, 500 + repos.size)));
    return repo;
  };
  let baseUrl = "";

  const answer = (req: IncomingMessage, url: URL, body: unknown): FakeReply => {
    const method = req.method ?? "GET";
    const segments = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const authorization = req.headers.authorization;
    const json = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
    if (segments[0] === "app") {
      const failure = verifyAppJwt(authorization, publicKey, appId, now());
      if (failure)
        return {
          status: failure.status,
          body: { message: failure.message, documentation_url: "https://docs.github.com/rest", status: String(failure.status) },
        };
      if (method === "POST" && segments[1] === "installations" && segments[3] === "access_tokens" && segments.length === 4) {
        if (Number(segments[2]) !== installationId) return { status: 404, body: { message: "Not Found", documentation_url: "https://docs.github.com/rest" } };
        const minted = tokenStore.mint(installationId, json, now());
        if (!("token" in minted)) return { status: minted.status, body: { message: minted.message, documentation_url: "https://docs.github.com/rest" } };
        return {
          status: 201,
          body: {
            token: minted.token,
            expires_at: new Date(minted.expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
            permissions: minted.permissions,
            repository_selection: minted.repositories ? "selected" : "all",
            ...(minted.repositories ? { repositories: minted.repositories.map((name) => ({ name, full_name: name })) } : {}),
          },
        };
      }
      return { status: 404, body: { message: "Not Found" } };
    }
    if (segments[0] === "repos" && segments.length >= 4) {
      const repo = repoFor(`${segments[1]}/${segments[2]}`);
      const authorize = (needs: [string, "read" | "write"][]) => {
        const failure = tokenStore.check(authorization, segments[2]!, needs, now());
        return failure
          ? { status: failure.status, body: { message: failure.message, documentation_url: "https://docs.github.com/rest", status: String(failure.status) } }
          : null;
      };
      const ctx = { repo, baseUrl, nextId, now: () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z"), authorize };
      return handleRepoRequest(ctx, method, segments.slice(3), url.searchParams, json, String(req.headers.accept ?? ""));
    }
    return { status: 404, body: { message: "Not Found", documentation_url: "https://docs.github.com/rest" } };
  };

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > BODY_MAX_BYTES) return void res.writeHead(413).end();
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString();
    let body: unknown = text || null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON: recorded as text; the handlers see no fields and answer 422 where one is required.
    }
    const url = new URL(req.url ?? "/", baseUrl);
    calls.push({ method: req.method ?? "GET", path: url.pathname + url.search, body, at: Date.now() });
    const reply = answer(req, url, body);
    const isText = typeof reply.body === "string";
    res.writeHead(reply.status, {
      "content-type": isText ? "text/plain; charset=utf-8" : "application/json; charset=utf-8",
      "x-github-request-id": randomUUID(),
      ...reply.headers,
    });
    res.end(reply.body === undefined ? "" : isText ? (reply.body as string) : JSON.stringify(reply.body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const sign = (body: string) => `sha256=${createHmac("sha256", webhookSecret).update(body).digest("hex")}`;

  return {
    url: baseUrl,
    appId,
    privateKeyPem,
    webhookSecret,
    installationId,
    calls,
    tokens: tokenStore.issued,
    setRole: (fullName, user, role) => void repoFor(fullName).roles.set(user.toLowerCase(), role),
    setFile: (fullName, path, content) => void repoFor(fullName).files.set(path.replace(/^\/+/, ""), content),
    addIssue(fullName, issue) {
      const pull = issue.pullRequest ? { head: issue.pullRequest.headRef, base: issue.pullRequest.baseRef, state: "open" as const } : undefined;
      repoFor(fullName).issues.set(issue.number, { ...issue, createdAt: new Date().toISOString(), pull });
    },
    addComment(fullName, issueNumber, comment) {
      const id = comment.id ?? nextId();
      const now = new Date().toISOString();
      const userType = comment.userType ?? (comment.user.endsWith("[bot]") ? "Bot" : "User");
      repoFor(fullName).comments.push({ id, issueNumber, body: comment.body, user: comment.user, userType, createdAt: now, updatedAt: now });
      return id;
    },
    comments: (fullName, n) =>
      repoFor(fullName)
        .comments.filter((c) => c.issueNumber === n)
        .map(({ id, body, user }) => ({ id, body, user })),
    reviewComments: (fullName, n) =>
      repoFor(fullName)
        .reviewComments.filter((c) => c.pullNumber === n)
        .map(({ id, body, user, inReplyTo }) => ({ id, body, user, inReplyTo })),
    reactions: (fullName) => repoFor(fullName).reactions.map(({ target, content, user }) => ({ target, content, user })),
    pulls: (fullName) =>
      [...repoFor(fullName).issues.values()]
        .filter((i) => i.pull)
        .map((i) => ({
          number: i.number,
          head: i.pull!.head,
          base: i.pull!.base,
          title: i.title,
          body: i.body,
          url: `${baseUrl}/${fullName}/pull/${i.number}`,
        })),
    async waitFor<T>(probe: () => T | undefined | null | false, timeoutMs = 5_000): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = probe();
        if (value !== undefined && value !== null && value !== false) return value;
        if (Date.now() > deadline) {
          const recent = calls.slice(-10).map((c) => `${c.method} ${c.path}`);
          throw new Error(`fake GitHub: condition not met within ${timeoutMs} ms; last calls: ${recent.join(", ") || "none"}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    advanceClock: (ms) => void (clockOffsetMs += ms),
    sign,
    deliver(webhookUrl, event, payload, opts = {}) {
      const body = typeof payload === "string" ? payload : JSON.stringify(payload);
      const signature = opts.signature === undefined ? sign(body) : opts.signature;
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "user-agent": "GitHub-Hookshot/7a3c6b1",
        "x-github-event": event,
        "x-github-delivery": opts.delivery ?? randomUUID(),
        "x-github-hook-id": "1000001",
        "x-github-hook-installation-target-type": "integration",
        "x-github-hook-installation-target-id": appId,
        ...(signature === null ? {} : { "x-hub-signature-256": signature }),
        ...opts.headers,
      };
      return fetch(webhookUrl, { method: "POST", headers, body });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
