/**
 * Webhook payloads as GitHub sends them to an App, for the end-to-end GitHub tests: GitHub's
 * documented examples (`@octokit/webhooks-examples`) with this test's repository, installation,
 * people and numbers put in.
 * @module
 */
import { createRequire } from "node:module";

type Json = Record<string, unknown>;
const examples = createRequire(import.meta.url)("@octokit/webhooks-examples/api.github.com/index.json") as { name: string; examples: Json[] }[];

let nextId = 9_000_000;
const newId = () => nextId++;

function example(event: string, action: string): Json {
  const found = examples.find((e) => e.name === event)?.examples.find((e) => e.action === action);
  if (!found) throw new Error(`no ${event}.${action} example`);
  return structuredClone(found);
}

export interface TestRepo {
  id: number;
  owner: string;
  name: string;
  cloneUrl: string;
  installationId: number;
}

const user = (login: string) => ({ login, id: 1_000 + login.length, type: "User" });

function place(payload: Json, repo: TestRepo, sender: string): Json {
  const repository = payload.repository as Json;
  Object.assign(repository, {
    id: repo.id,
    name: repo.name,
    full_name: `${repo.owner}/${repo.name}`,
    owner: { ...(repository.owner as Json), login: repo.owner },
    clone_url: repo.cloneUrl,
    default_branch: "main",
    private: true,
  });
  return { ...payload, installation: { id: repo.installationId, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==" }, sender: user(sender) };
}

/** `issue_comment.created` on issue `number` (a pull request's conversation when `onPullRequest`). */
export function issueComment(repo: TestRepo, input: { number: number; title: string; issueBody: string; body: string; by: string; onPullRequest?: boolean }) {
  const payload = place(example("issue_comment", "created"), repo, input.by);
  const issue = payload.issue as Json;
  Object.assign(issue, { number: input.number, title: input.title, body: input.issueBody });
  if (!input.onPullRequest) delete issue.pull_request;
  else issue.pull_request = { url: "https://api.github.com/repos/x/y/pulls/1" };
  const commentId = newId();
  Object.assign(payload.comment as Json, { id: commentId, body: input.body, user: user(input.by) });
  return { payload, commentId };
}

/** `pull_request_review_comment.created` on pull request `number`, on `path`. */
export function reviewComment(repo: TestRepo, input: { number: number; head: string; body: string; by: string; path: string }) {
  const payload = place(example("pull_request_review_comment", "created"), repo, input.by);
  const pr = payload.pull_request as Json;
  Object.assign(pr, { number: input.number, title: "CodeForge", body: "", head: { ...(pr.head as Json), ref: input.head } });
  const commentId = newId();
  Object.assign(payload.comment as Json, { id: commentId, body: input.body, path: input.path, line: 1, user: user(input.by) });
  return { payload, commentId };
}

/** `issues.labeled` with label `label` added to issue `number`. */
export function issueLabeled(repo: TestRepo, input: { number: number; title: string; issueBody: string; label: string; by: string }) {
  const payload = place(example("issues", "labeled"), repo, input.by);
  Object.assign(payload.issue as Json, { number: input.number, title: input.title, body: input.issueBody });
  payload.label = { ...(payload.label as Json), name: input.label };
  return { payload };
}
