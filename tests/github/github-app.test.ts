/**
 * Integration: the GitHub App client (`edge/src/github/github-app.ts`) against the fake GitHub
 * over a real socket — the App JWT checked with RS256, installation tokens scoped to one
 * repository, every repository call, and what never leaks into errors.
 */
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitHubApiError, GitHubApp, GitHubAppKeyError } from "../../edge/src/github/github-app.js";
import { FILE_MAX_BYTES } from "../../edge/src/github/github-repo.js";
import { type FakeGitHub, startFakeGitHub } from "../support/fake-github.js";

const OWNER = "octo-org";
const NAME = "hello-world";
const FULL = `${OWNER}/${NAME}`;
let gh: FakeGitHub;

beforeAll(async () => {
  gh = await startFakeGitHub();
});
afterAll(() => gh.close());

function app(privateKey = gh.privateKeyPem, now?: () => number) {
  return new GitHubApp({ appId: gh.appId, privateKey, apiUrl: gh.url }, { now });
}
const tokenCalls = () => gh.calls.filter((c) => c.path.endsWith("/access_tokens")).length;
function decodeJwt(jwt: string) {
  return JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString()) as { iss: string; iat: number; exp: number };
}
async function failure(promise: Promise<unknown>): Promise<GitHubApiError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GitHubApiError);
  return err as GitHubApiError;
}

describe("App authentication", () => {
  it("signs an App JWT the fake accepts: iss is the App id, issued 60 s back, 9 minutes left, reused", async () => {
    const client = app();
    const jwt = await client.appJwt();
    const claims = decodeJwt(jwt);
    const nowS = Date.now() / 1000;
    expect(claims.iss).toBe(gh.appId);
    expect(claims.iat).toBeGreaterThan(nowS - 62);
    expect(claims.iat).toBeLessThan(nowS - 58);
    expect(claims.exp - nowS).toBeGreaterThan(538);
    expect(claims.exp - nowS).toBeLessThan(541);
    expect(await client.appJwt()).toBe(jwt);
  });

  it("replaces the JWT a minute before it expires", async () => {
    let now = Date.now();
    const client = app(gh.privateKeyPem, () => now);
    const first = await client.appJwt();
    now += 7 * 60_000;
    expect(await client.appJwt()).toBe(first);
    now += 60_000 + 1_000;
    expect(decodeJwt(await client.appJwt()).iat).toBeGreaterThan(decodeJwt(first).iat);
  });

  it("mints an installation token with GitHub's PKCS#1 key, scoped to the repositories and permissions asked", async () => {
    const { token, expiresAt } = await app().installationToken(gh.installationId, { repositories: [NAME] });
    expect(token).toMatch(/^ghs_/);
    expect(expiresAt - Date.now()).toBeGreaterThan(59 * 60_000);
    const issued = gh.tokens.find((t) => t.token === token)!;
    expect(issued.repositories).toEqual([NAME]);
    expect(issued.permissions).toMatchObject({ contents: "write", pull_requests: "write", issues: "write" });
    const readOnly = await app().installationToken(gh.installationId, { repositories: [NAME], permissions: { issues: "read" } });
    expect(gh.tokens.find((t) => t.token === readOnly.token)!.permissions).toEqual({ issues: "read", metadata: "read" });
  });

  it("accepts a PKCS#8 key, and a key whose line breaks were escaped for an env var", async () => {
    const pkcs8 = createPrivateKey(gh.privateKeyPem).export({ type: "pkcs8", format: "pem" }).toString();
    expect(pkcs8).toContain("BEGIN PRIVATE KEY");
    expect((await app(pkcs8).installationToken(gh.installationId)).token).toMatch(/^ghs_/);
    const escaped = gh.privateKeyPem.trim().replace(/\n/g, "\\n");
    expect((await app(escaped).installationToken(gh.installationId)).token).toMatch(/^ghs_/);
  });

  it("a JWT signed with another key is refused with 401, and the error shows neither key nor JWT", async () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    const client = app(other);
    const err = await failure(client.installationToken(gh.installationId));
    expect(err.status).toBe(401);
    expect(err.endpoint).toBe("POST /app/installations/{installation_id}/access_tokens");
    expect(err.message).toContain("401");
    expect(err.message).toContain("JSON web token could not be decoded");
    const jwt = await client.appJwt();
    for (const text of [err.message, err.stack ?? "", JSON.stringify(err)]) {
      expect(text).not.toContain(jwt.split(".")[2]!);
      expect(text).not.toContain(other.split("\n")[1]!);
      expect(text).not.toContain("PRIVATE KEY");
    }
  });

  it("an unknown installation is a 404; a key that is not PEM is refused without quoting it", async () => {
    expect((await failure(app().installationToken(999))).status).toBe(404);
    const secret = "not-a-key-but-secret-material-123";
    const err = await app(secret)
      .appJwt()
      .catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(GitHubAppKeyError);
    expect((err as Error).message).not.toContain(secret);
  });

  it("a GitHub that cannot be reached is a GitHubApiError with status 0", async () => {
    const err = await failure(new GitHubApp({ appId: gh.appId, privateKey: gh.privateKeyPem, apiUrl: "http://127.0.0.1:9" }).installationToken(1));
    expect(err.status).toBe(0);
    expect(err.message).toContain("POST /app/installations/{installation_id}/access_tokens");
  });
});

describe("repository token", () => {
  it("is minted once for concurrent and later calls, scoped to the one repository", async () => {
    const client = app();
    gh.setRole(FULL, "alice", "write");
    const before = tokenCalls();
    const repo = client.repo(gh.installationId, OWNER, NAME);
    await Promise.all([repo.permission("alice"), repo.permission("alice")]);
    await repo.permission("alice");
    await client.repo(gh.installationId, OWNER, NAME).permission("alice");
    expect(tokenCalls() - before).toBe(1);
    const minted = gh.calls.filter((c) => c.path.endsWith("/access_tokens")).at(-1)!;
    expect(minted.body).toEqual({ repositories: [NAME], permissions: { contents: "write", pull_requests: "write", issues: "write" } });
    // Another repository gets its own token: the first one would be refused there.
    const other = gh.tokens.at(-1)!;
    const res = await fetch(`${gh.url}/repos/${OWNER}/other/collaborators/alice/permission`, { headers: { authorization: `token ${other.token}` } });
    expect(res.status).toBe(403);
  });

  it("is replaced 5 minutes before it expires, and once GitHub stops accepting it", async () => {
    let now = Date.now();
    const client = app(gh.privateKeyPem, () => now);
    const repo = client.repo(gh.installationId, OWNER, NAME);
    gh.setRole(FULL, "bob", "admin");
    const before = tokenCalls();
    const advance = (ms: number) => ((now += ms), gh.advanceClock(ms));
    try {
      await repo.permission("bob");
      advance(54 * 60_000);
      await repo.permission("bob");
      expect(tokenCalls() - before).toBe(1);
      advance(2 * 60_000);
      await repo.permission("bob");
      expect(tokenCalls() - before).toBe(2);
      gh.tokens.at(-1)!.expiresAt = 0; // revoked: GitHub answers 401
      expect(await repo.permission("bob")).toBe("admin");
      expect(tokenCalls() - before).toBe(3);
    } finally {
      gh.advanceClock(Date.now() - now);
    }
  });
});

describe("repository calls", () => {
  const repo = () => app().repo(gh.installationId, OWNER, NAME);

  it("permission: role_name, with 'none' for users GitHub does not know", async () => {
    gh.setRole(FULL, "carol", "maintain");
    gh.setRole(FULL, "dave", "triage");
    const r = repo();
    expect(await r.permission("carol")).toBe("maintain");
    expect(await r.permission("dave")).toBe("triage");
    expect(await r.permission("nobody-at-all")).toBe("none");
  });

  it("comments: create, update, list the newest oldest first", async () => {
    gh.addIssue(FULL, { number: 1, title: "Bug", body: "It breaks", user: "alice" });
    const r = repo();
    const created = await r.createComment(1, "On it");
    expect(created.url).toBe(`${gh.url}/${FULL}/issues/1#issuecomment-${created.id}`);
    await r.updateComment(created.id, "Done");
    expect(gh.comments(FULL, 1)).toEqual([{ id: created.id, body: "Done", user: "codeforge[bot]" }]);
    for (let i = 0; i < 34; i++) gh.addComment(FULL, 1, { body: `c${i}`, user: "alice" });
    const newest = await r.listComments(1, { limit: 10 });
    expect(newest.map((c) => c.body)).toEqual(Array.from({ length: 10 }, (_, i) => `c${24 + i}`));
    const all = await r.listComments(1);
    expect(all).toHaveLength(30);
    expect(all.at(-1)).toMatchObject({ user: "alice", userType: "User", body: "c33" });
    expect(all[0]!.body).toBe("c4");
    const bot = (await r.listComments(1, { limit: 100 }))[0]!;
    expect(bot).toMatchObject({ id: created.id, user: "codeforge[bot]", userType: "Bot", body: "Done" });
    expect(Date.parse(bot.createdAt)).toBeGreaterThan(0);
  });

  it("reactions on issue comments, review comments and issues; repeating one is fine", async () => {
    gh.addIssue(FULL, { number: 2, title: "Feature", body: "", user: "alice" });
    const r = repo();
    await r.addReaction({ issueComment: 555 }, "eyes");
    await r.addReaction({ issueComment: 555 }, "eyes");
    await r.addReaction({ reviewComment: 777 }, "rocket");
    await r.addReaction({ issue: 2 }, "+1");
    expect(gh.reactions(FULL)).toEqual([
      { target: "issue_comment:555", content: "eyes", user: "codeforge[bot]" },
      { target: "review_comment:777", content: "rocket", user: "codeforge[bot]" },
      { target: "issue:2", content: "+1", user: "codeforge[bot]" },
    ]);
  });

  it("issues and pull requests: read, open (finding an existing one), update, reply in review threads", async () => {
    gh.addIssue(FULL, { number: 3, title: "T", body: "", user: "erin" });
    gh.addIssue(FULL, { number: 4, title: "Existing PR", body: "b", user: "erin", pullRequest: { headRef: "feature", baseRef: "main" } });
    const r = repo();
    expect(await r.getIssue(3)).toEqual({ title: "T", body: "", user: "erin", isPullRequest: false });
    expect((await r.getIssue(4)).isPullRequest).toBe(true);
    const opened = await r.openPullRequest({ head: "codeforge/issue-3", base: "main", title: "Fix it", body: "Fixes #3" });
    expect(opened).toEqual({ number: 5, url: `${gh.url}/${FULL}/pull/5`, created: true });
    const again = await r.openPullRequest({ head: "codeforge/issue-3", base: "main", title: "Fix it again", body: "x" });
    expect(again).toEqual({ ...opened, created: false });
    await r.updatePullRequest(5, { body: "Fixes #3\n\nCost: $0.01" });
    expect(await r.getPullRequest(5)).toEqual({
      number: 5,
      url: opened.url,
      headRef: "codeforge/issue-3",
      baseRef: "main",
      title: "Fix it",
      body: "Fixes #3\n\nCost: $0.01",
    });
    expect(gh.pulls(FULL).map((p) => p.number)).toEqual([4, 5]);
    const reply = await r.replyToReviewComment(5, 4242, "Working on it");
    expect(reply.url).toBe(`${gh.url}/${FULL}/pull/5#discussion_r${reply.id}`);
    expect(gh.reviewComments(FULL, 5)).toEqual([{ id: reply.id, body: "Working on it", user: "codeforge[bot]", inReplyTo: 4242 }]);
    const err = await failure(r.openPullRequest({ head: "main", base: "main", title: "x", body: "" }));
    expect(err.status).toBe(422);
    expect(err.message).toContain("No commits between main and main");
  });

  it("readFile: raw text at a ref, null when missing, refused over the cap", async () => {
    gh.setFile(FULL, ".codeforge.yml", "cli: claude\nmodel: sonnet\n");
    gh.setFile(FULL, "docs/a b.md", "é");
    gh.setFile(FULL, "big.txt", "x".repeat(FILE_MAX_BYTES + 1));
    const r = repo();
    expect(await r.readFile(".codeforge.yml", "main")).toBe("cli: claude\nmodel: sonnet\n");
    expect(gh.calls.at(-1)!.path).toBe(`/repos/${FULL}/contents/.codeforge.yml?ref=main`);
    expect(await r.readFile("docs/a b.md")).toBe("é");
    expect(await r.readFile("missing.yml")).toBeNull();
    expect((await failure(r.readFile("big.txt"))).status).toBe(413);
  });

  it("404s name the endpoint and status and never carry the token", async () => {
    const r = repo();
    const errors = await Promise.all([failure(r.getIssue(9999)), failure(r.getPullRequest(3)), failure(r.createComment(9999, "x"))]);
    expect(errors.map((e) => [e.status, e.endpoint])).toEqual([
      [404, "GET /repos/{owner}/{repo}/issues/{issue_number}"],
      [404, "GET /repos/{owner}/{repo}/pulls/{pull_number}"],
      [404, "POST /repos/{owner}/{repo}/issues/{issue_number}/comments"],
    ]);
    expect(errors[0]!.message).toBe("GitHub GET /repos/{owner}/{repo}/issues/{issue_number} failed: 404 (Not Found)");
    for (const err of errors) {
      const text = `${err.message} ${err.stack} ${JSON.stringify(err)}`;
      for (const t of gh.tokens) expect(text).not.toContain(t.token);
      expect(text).not.toContain("ghs_");
    }
  });
});
