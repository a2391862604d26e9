/**
 * What a GitHub conversation does for one delivery it accepted: check the sender may steer
 * CodeForge here, react 👀, start the task (or a follow-up of the one it drives) as the mapped
 * key with an installation token minted for it, reply with a link, and start watching the
 * iteration. Each step is saved as it is done (`WorkProgress`), so a retry after a failure
 * repeats none; what the key's limits or the request's checks refuse is said in the reply.
 * @module
 */
import { isTerminal } from "#api/task.js";
import { CreateTaskRequest, FollowUpRequest } from "#api/task-request.js";
import { ApiError } from "../api-error.js";
import type { Env } from "../env.js";
import { recordAudit } from "../audit/audit-record.js";
import type { Logger } from "../log.js";
import { taskStub } from "../task-stub.js";
import { submitFollowUp, submitTask, viewerOf } from "../task/submit-task.js";
import { githubAppOf } from "./github-app-for-env.js";
import type { GitHubRepo } from "./github-app.js";
import { installationOf, type RepoRef } from "./installation-object.js";
import { principalOfKey, spendTaskWindow } from "./key-principal.js";
import { busyReply, refusedReply, startedReply } from "./messages.js";
import { type ResolvedRepoConfig, senderAllowed } from "./repo-config.js";
import { githubTaskPrompt } from "./task-prompt.js";
import { type Conversation, laterSteers, loadConversation, saveConversation, saveProgress, type WorkItem } from "./thread-store.js";
import type { GitHubAct } from "./triggers.js";

/** Comments of the issue given to the agent as context, at most. */
const CONTEXT_COMMENTS = 30;
/** The first poll of a new iteration's state comes this soon. */
export const FIRST_POLL_MS = 1_000;

export interface ThreadHost {
  env: Env;
  sql: SqlStorage;
  log: Logger;
  waitUntil(promise: Promise<unknown>): void;
}

export const repoRefOf = (act: { repo: GitHubAct["repo"] }): RepoRef => ({
  owner: act.repo.owner,
  name: act.repo.name,
  fullName: act.repo.fullName,
  defaultBranch: act.repo.defaultBranch,
});

/** The task's page in the web console (sign in with the mapped key or an admin key to read it). */
export const taskUrlOf = (publicUrl: string, taskId: string): string => `${publicUrl}/tasks/${taskId}`;

/** The branch a conversation's task pushes to. */
export const branchFor = (issueNumber: number): string => `codeforge/issue-${issueNumber}`;

function reactionTarget(act: GitHubAct): Parameters<GitHubRepo["addReaction"]>[0] {
  const { kind, id } = act.source;
  if (kind === "issue_comment" && id !== null) return { issueComment: id };
  if (kind === "review_comment" && id !== null) return { reviewComment: id };
  return { issue: act.number };
}

/**
 * Carries out `item`, and for a steer the steers that came right after it (one review's
 * comments), merged into one follow-up; returns the later work it also finished. Throws on a
 * failure worth retrying (GitHub or an object unreachable).
 */
export async function carryOut(host: ThreadHost, item: WorkItem): Promise<number[]> {
  const { env, sql, log } = host;
  const { act, progress } = item;
  const conversation = loadConversation(sql)!;
  // A review or comment on a pull request CodeForge did not open is none of its business.
  if (act.mode === "steer" && conversation.taskId === null) {
    log.info("github: steer on a pull request no task drives; ignored", { repository: act.repo.fullName, number: act.number });
    return [];
  }
  const installation = installationOf(env, act.installationId);
  const repoRef = repoRefOf(act);
  const context = await installation.repoContext(act.installationId, repoRef);
  if (context.keyId === null) {
    log.warn("github: the installation is no longer mapped to a key; delivery dropped", { installation: act.installationId });
    return [];
  }
  const gh = githubAppOf(env).repo(act.installationId, act.repo.owner, act.repo.name);
  const role = await installation.role(act.installationId, repoRef, act.sender.login);
  if (!senderAllowed(context.config, act.sender.login, role)) {
    log.info("github: sender may not trigger CodeForge here", { repository: act.repo.fullName, user: act.sender.login, role });
    await gh.addReaction(reactionTarget(act), "confused");
    return [];
  }
  if (!progress.reacted) {
    await gh.addReaction(reactionTarget(act), "eyes");
    progress.reacted = true;
    saveProgress(sql, item.seq, progress);
  }
  const merged = act.mode === "steer" ? await gatherSteers(host, item, context.config, gh) : { allowed: [], finished: [] };
  if (progress.taskId === undefined) {
    try {
      const started = await startIteration(host, item, conversation, context.config, context.keyId, merged.allowed);
      if (started === "busy") {
        await gh.createComment(act.number, busyReply({ taskId: conversation.taskId!, taskUrl: taskUrlOf(item.publicUrl, conversation.taskId!) }));
        return merged.finished;
      }
      Object.assign(progress, started);
      saveProgress(sql, item.seq, progress);
    } catch (err) {
      // A refusal (the key's limits, a check of the request): said on GitHub, not retried.
      if (!(err instanceof ApiError) || err.status >= 500) throw err;
      log.warn("github: task refused", { repository: act.repo.fullName, number: act.number, code: err.code, message: err.message });
      await gh.createComment(act.number, refusedReply({ code: err.code, message: err.message }));
      return merged.finished;
    }
  }
  const taskId = progress.taskId!;
  if (progress.replyId === undefined) {
    const reply = await gh.createComment(
      act.number,
      startedReply({ taskId, taskUrl: taskUrlOf(item.publicUrl, taskId), followUp: (progress.iteration ?? 1) > 1 }),
    );
    progress.replyId = reply.id;
    saveProgress(sql, item.seq, progress);
  }
  const now = Date.now();
  saveConversation(sql, {
    ...loadConversation(sql)!,
    taskId,
    keyId: context.keyId,
    watch: {
      taskId,
      iteration: progress.iteration ?? 1,
      replyId: progress.replyId!,
      publicUrl: item.publicUrl,
      startedAt: now,
      nextPollAt: now + FIRST_POLL_MS,
    },
  });
  return merged.finished;
}

/** A later steer of the same review, as a comment the prompt quotes (with where it sits). */
function steerAsComment(act: GitHubAct): { user: string; body: string } {
  const where = act.review ? `\n\n(on ${act.review.path}${act.review.line === null ? "" : ` line ${act.review.line}`})\n${act.review.diffHunk}` : "";
  return { user: act.sender.login, body: `${act.instruction}${where}` };
}

/**
 * The steers that came after `item` and wait: each from someone allowed gets 👀 and joins the
 * follow-up; each from someone else gets 😕 and is dropped. All are finished with `item`.
 */
async function gatherSteers(
  host: ThreadHost,
  item: WorkItem,
  config: ResolvedRepoConfig,
  gh: GitHubRepo,
): Promise<{ allowed: WorkItem[]; finished: number[] }> {
  const installation = installationOf(host.env, item.act.installationId);
  const allowed: WorkItem[] = [];
  const later = laterSteers(host.sql, item.seq);
  for (const steer of later) {
    const role = await installation.role(steer.act.installationId, repoRefOf(steer.act), steer.act.sender.login);
    const ok = senderAllowed(config, steer.act.sender.login, role);
    await gh.addReaction(reactionTarget(steer.act), ok ? "eyes" : "confused");
    if (ok) allowed.push(steer);
  }
  return { allowed, finished: later.map((s) => s.seq) };
}

/** Starts the task, or a follow-up of the conversation's task; "busy" while that one still runs. */
async function startIteration(
  host: ThreadHost,
  item: WorkItem,
  conversation: Conversation,
  config: ResolvedRepoConfig,
  keyId: string,
  laterSteers: readonly WorkItem[],
): Promise<{ taskId: string; iteration: number } | "busy"> {
  const { env } = host;
  const { act } = item;
  const principal = await principalOfKey(env, keyId);
  const app = githubAppOf(env);
  const gh = app.repo(act.installationId, act.repo.owner, act.repo.name);
  if (conversation.taskId !== null) {
    const current = await taskStub(env, conversation.taskId).view(viewerOf(principal));
    if (current.ok && !isTerminal(current.value.status)) return "busy";
  }
  const comments = act.mode === "start" && conversation.taskId === null ? await gh.listComments(act.number, { limit: CONTEXT_COMMENTS }) : [];
  // The issue's discussion (not the triggering comment again, nor bots), and a review's other comments.
  const discussion = comments.filter((c) => c.userType !== "Bot" && c.id !== act.source.id).map((c) => ({ user: c.user, body: c.body }));
  const prompt = githubTaskPrompt(act, { comments: [...discussion, ...laterSteers.map(({ act: later }) => steerAsComment(later))] });
  await spendTaskWindow(env, principal);
  // A token for this iteration only: one repository; contents, pull requests and issues.
  const { token } = await app.installationToken(act.installationId, { repositories: [act.repo.name] });
  const idempotencyKey = `github:${item.delivery}`;
  const detail = {
    github_user: act.sender.login,
    github_repository: act.repo.fullName,
    github_issue: String(conversation.issueNumber ?? act.number),
    github_installation: String(act.installationId),
  };
  let result: { taskId: string; iteration: number };
  if (conversation.taskId === null) {
    const request = CreateTaskRequest.parse({
      repo: { url: act.repo.cloneUrl, ref: act.repo.defaultBranch },
      prompt,
      cli: config.cli,
      ...(config.model ? { model: config.model } : {}),
      ...(config.max_cost_usd ? { max_cost_usd: config.max_cost_usd } : {}),
      ...(config.max_turns ? { max_turns: config.max_turns } : {}),
      ...(config.timeout_seconds ? { timeout_seconds: config.timeout_seconds } : {}),
      ...(config.pool ? { pool: config.pool } : {}),
      ...(config.autonomy ? { autonomy: config.autonomy } : {}),
      push: true,
      branch: branchFor(act.number),
      access_token: token,
      metadata: detail,
    });
    const { task } = await submitTask(env, principal, request, { idempotencyKey });
    result = { taskId: task.id, iteration: task.iteration };
  } else {
    const request = FollowUpRequest.parse({ prompt, access_token: token });
    const { task } = await submitFollowUp(env, principal, conversation.taskId, request, { idempotencyKey });
    result = { taskId: task.id, iteration: task.iteration };
  }
  recordAudit(env, host.waitUntil, {
    actor: `github:${act.sender.login}`,
    clientIp: null,
    requestId: item.delivery,
    action: conversation.taskId === null ? "github.task.create" : "github.task.follow_up",
    target: result.taskId,
    outcome: "success",
    detail,
  });
  return result;
}
