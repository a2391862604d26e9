/**
 * End to end, the GitHub App's whole loop with every real part: the edge under `wrangler dev`
 * with the App configured, a real runner with the demo CLI, a local bare repository as the
 * remote, and a fake GitHub API on loopback (tests/support/fake-github.ts) that checks the App's
 * JWT and installation tokens and keeps the comments, reactions and pull requests the App makes.
 *
 * A signed `@codeforge` comment on an issue → 👀 and a reply linking the task → the task runs,
 * as the mapped key, with a token minted for it → the branch is pushed → a pull request
 * "Fixes #n" is opened → the reply shows the result. A review comment on that pull request → a
 * follow-up on the same branch. A reader's comment starts nothing; a redelivery starts nothing
 * new; a failing run says why on the issue.
 */
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGitHub, type FakeGitHub } from "../support/fake-github.js";
import { issueComment, issueLabeled, reviewComment, type TestRepo } from "./github-payloads.js";
import { startStack, type Stack } from "./local-stack.js";

let github: FakeGitHub;
let stack: Stack;
let repo: TestRepo;
let keyId: string;
const FULL_NAME = "octo-org/hello-world";
const BOT = "codeforge[bot]";

const webhookUrl = () => `${stack.edgeUrl}/integrations/github/webhook`;
const taskIdIn = (body: string) => /codeforge:task=(tsk_[0-9a-z]+)/.exec(body)?.[1] ?? null;
const replyOn = (number: number, taskId?: string) =>
  github.comments(FULL_NAME, number).find((c) => c.user === BOT && taskIdIn(c.body) !== null && (taskId === undefined || taskIdIn(c.body) === taskId));
const branchTip = (branch: string) => execFileSync("git", ["ls-remote", repo.cloneUrl, `refs/heads/${branch}`], { encoding: "utf8" }).split("\t")[0] ?? "";
const fileOnBranch = (branch: string, path: string) =>
  execFileSync("git", ["--git-dir", repo.cloneUrl.replace("file://", ""), "show", `${branch}:${path}`], { encoding: "utf8" });

/** Polls `probe` until it gives a value, failing after `timeoutMs`. */
async function until<T>(probe: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`nothing after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  github = await startFakeGitHub();
  stack = await startStack({
    vars: {
      GITHUB_APP_ID: github.appId,
      GITHUB_APP_PRIVATE_KEY: github.privateKeyPem,
      GITHUB_WEBHOOK_SECRET: github.webhookSecret,
      GITHUB_API_URL: github.url,
    },
  });
  repo = { id: 4242, owner: "octo-org", name: "hello-world", cloneUrl: stack.repoUrl, installationId: github.installationId };
  const key = await stack.client.createKey({ name: "github-app", scopes: ["tasks:read", "tasks:write"] });
  keyId = key.id;
  const mapped = await fetch(`${stack.edgeUrl}/api/v1/github/installations/${github.installationId}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${stack.adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ key_id: keyId }),
  });
  expect(mapped.status, await mapped.text()).toBe(200);
  github.setFile(FULL_NAME, ".codeforge.yml", "cli: demo\nmax_cost_usd: 2\n");
  github.setRole(FULL_NAME, "octo-writer", "write");
  github.setRole(FULL_NAME, "octo-reader", "read");
  github.addIssue(FULL_NAME, { number: 7, title: "Greet the user", body: "The app should greet whoever runs it.", user: "octo-reader" });
  github.addIssue(FULL_NAME, { number: 8, title: "Break the build", body: "For science.", user: "octo-writer" });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await github?.close();
});

describe("the GitHub App, end to end", () => {
  let taskId: string;
  let pullNumber: number;

  it("turns an @codeforge comment into a task, a pushed branch, a pull request and a result reply", async () => {
    const { payload, commentId } = issueComment(repo, {
      number: 7,
      title: "Greet the user",
      issueBody: "The app should greet whoever runs it.",
      body: "@codeforge add a greeting",
      by: "octo-writer",
    });
    const res = await github.deliver(webhookUrl(), "issue_comment", payload);
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ status: "accepted" });

    await github.waitFor(() => github.reactions(FULL_NAME).find((r) => r.content === "eyes" && r.target.includes(String(commentId))), 15_000);
    const reply = await github.waitFor(() => replyOn(7), 15_000);
    taskId = taskIdIn(reply.body)!;
    // The link is the task's page in the web console.
    expect(reply.body).toContain(`${stack.edgeUrl}/tasks/${taskId}`);
    const task = await stack.client.getTask(taskId);
    // Owned by the mapped key, with the repository's settings, a token and the issue as material.
    expect(task).toMatchObject({ cli: "demo", push: true, branch: "codeforge/issue-7", max_cost_usd: 2, has_access_token: true });
    expect(task.metadata).toMatchObject({ github_repository: FULL_NAME, github_issue: "7", github_user: "octo-writer" });
    expect(task.prompt.split("\n")[0]).toContain("add a greeting");
    expect(task.prompt).toContain("The app should greet whoever runs it.");
    const owned = await stack.client.listTasks({ owner: keyId });
    expect(owned.tasks.map((t) => t.id)).toContain(taskId);

    const pr = await github.waitFor(() => github.pulls(FULL_NAME)[0], 60_000);
    pullNumber = pr.number;
    expect(pr).toMatchObject({ head: "codeforge/issue-7", base: "main" });
    expect(pr.body.startsWith("Fixes #7")).toBe(true);
    expect(pr.body).toContain(taskId);
    expect(fileOnBranch("codeforge/issue-7", "CODEFORGE_NOTES.md")).toContain("add a greeting");
    const done = await github.waitFor(() => (replyOn(7, taskId)?.body.includes(pr.url) ? replyOn(7, taskId) : null), 15_000);
    expect(done.body).toMatch(/succeeded|✅|done/i);

    // Audited with the GitHub user, repository and issue.
    const audited = await until(async () => {
      const res = await fetch(`${stack.edgeUrl}/api/v1/audit?action=github.task.create&target=${taskId}`, {
        headers: { authorization: `Bearer ${stack.adminKey}` },
      });
      const page = (await res.json()) as { entries: { actor: string; detail: Record<string, string> | null }[] };
      return page.entries[0] ?? null;
    }, 15_000);
    expect(audited.actor).toBe("github:octo-writer");
    expect(audited.detail).toMatchObject({ github_repository: FULL_NAME, github_issue: "7", github_user: "octo-writer" });

    // One token, for this repository only, with the three permissions; it never reached a log.
    const minted = github.tokens.filter((t) => t.repositories?.includes("hello-world"));
    expect(minted.length).toBeGreaterThan(0);
    expect(minted.some((t) => t.permissions.contents === "write" && t.permissions.pull_requests === "write" && t.permissions.issues === "write")).toBe(true);
    const logs = stack.logs();
    for (const { token } of github.tokens) expect(logs).not.toContain(token);
    expect(logs).not.toContain(github.privateKeyPem.split("\n")[1]);
  }, 120_000);

  it("follows a review comment on that pull request with a follow-up on the same branch", async () => {
    const before = branchTip("codeforge/issue-7");
    // One review with two comments: two deliveries moments apart, one follow-up.
    const review = { number: pullNumber, head: "codeforge/issue-7", by: "octo-writer", path: "CODEFORGE_NOTES.md" };
    const first = reviewComment(repo, { ...review, body: "also say goodbye" });
    const second = reviewComment(repo, { ...review, body: "and wave" });
    for (const { payload } of [first, second]) expect((await github.deliver(webhookUrl(), "pull_request_review_comment", payload)).status).toBe(202);
    for (const { commentId } of [first, second]) {
      await github.waitFor(() => github.reactions(FULL_NAME).find((r) => r.content === "eyes" && r.target.includes(String(commentId))), 15_000);
    }
    await github.waitFor(() => replyOn(pullNumber, taskId), 15_000);
    const task = await until(async () => {
      const t = await stack.client.getTask(taskId);
      return t.iteration === 2 && t.status === "succeeded" ? t : null;
    }, 60_000);
    expect(task.result?.push?.branch).toBe("codeforge/issue-7");
    expect(task.prompt).toContain("and wave");
    expect(github.comments(FULL_NAME, pullNumber).filter((c) => c.user === BOT)).toHaveLength(1);
    expect(branchTip("codeforge/issue-7")).not.toBe(before);
    expect(fileOnBranch("codeforge/issue-7", "CODEFORGE_NOTES.md")).toContain("also say goodbye");
    // Still the one pull request, its description brought up to date.
    expect(github.pulls(FULL_NAME)).toHaveLength(1);
    await github.waitFor(() => github.calls.find((c) => c.method === "PATCH" && c.path.endsWith(`/pulls/${pullNumber}`)), 15_000);
  }, 120_000);

  it("starts nothing for a reader, and nothing new for a redelivery", async () => {
    const tasksBefore = (await stack.client.listTasks({ owner: keyId })).tasks.length;
    const { payload, commentId } = issueComment(repo, {
      number: 7,
      title: "Greet the user",
      issueBody: "",
      body: "@codeforge delete everything",
      by: "octo-reader",
    });
    expect((await github.deliver(webhookUrl(), "issue_comment", payload)).status).toBe(202);
    await github.waitFor(() => github.reactions(FULL_NAME).find((r) => r.content === "confused" && r.target.includes(String(commentId))), 15_000);

    const second = issueComment(repo, {
      number: 8,
      title: "Break the build",
      issueBody: "For science.",
      body: "@codeforge [demo:exit=3] break it",
      by: "octo-writer",
    });
    const delivery = crypto.randomUUID();
    expect(await (await github.deliver(webhookUrl(), "issue_comment", second.payload, { delivery })).json()).toMatchObject({ status: "accepted" });
    expect(await (await github.deliver(webhookUrl(), "issue_comment", second.payload, { delivery })).json()).toMatchObject({ status: "duplicate" });
    // The failing run says why on the issue: the error code and the last lines of output.
    const failed = await github.waitFor(() => {
      const reply = replyOn(8);
      return reply && /cli_failed/.test(reply.body) ? reply : null;
    }, 60_000);
    expect(github.comments(FULL_NAME, 8).filter((c) => c.user === BOT)).toHaveLength(1);
    expect(failed.body).toContain("```");
    const tasksAfter = (await stack.client.listTasks({ owner: keyId })).tasks.length;
    expect(tasksAfter).toBe(tasksBefore + 1);
  }, 120_000);

  it("starts a task when the codeforge label is added, with the issue itself as the request", async () => {
    github.addIssue(FULL_NAME, { number: 20, title: "Add a changelog", body: "Keep a CHANGELOG.md.", user: "octo-writer" });
    const { payload } = issueLabeled(repo, { number: 20, title: "Add a changelog", issueBody: "Keep a CHANGELOG.md.", label: "codeforge", by: "octo-writer" });
    expect(await (await github.deliver(webhookUrl(), "issues", payload)).json()).toMatchObject({ status: "accepted" });
    await github.waitFor(() => github.reactions(FULL_NAME).find((r) => r.content === "eyes" && r.target === "issue:20"), 15_000);
    const reply = await github.waitFor(() => replyOn(20), 15_000);
    const task = await stack.client.getTask(taskIdIn(reply.body)!);
    expect(task.prompt.split("\n")[0]).toContain("issue #20");
    expect(task.prompt).toContain("Keep a CHANGELOG.md.");
    const pr = await github.waitFor(() => github.pulls(FULL_NAME).find((p) => p.head === "codeforge/issue-20"), 60_000);
    expect(pr.body.startsWith("Fixes #20")).toBe(true);
    // Another label starts nothing.
    const other = issueLabeled(repo, { number: 20, title: "Add a changelog", issueBody: "", label: "bug", by: "octo-writer" });
    expect(await (await github.deliver(webhookUrl(), "issues", other.payload)).json()).toMatchObject({ status: "ignored" });
  }, 120_000);
});
