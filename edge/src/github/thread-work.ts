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
import { type Conversation, loadConversation, saveConversation, saveProgress, type WorkItem } from "./thread-store.js";
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

export const taskUrlOf = (publicUrl: string, taskId: string): string => `${publicUrl}/api/v1/tasks/${taskId}`;

/** The branch a conversation's task pushes to. */
export const branchFor = (issueNumber: number): string => `codeforge/issue-${issueNumber}`;

function reactionTarget(act: GitHubAct): Parameters<GitHubRepo["addReaction"]>[0] {
  const { kind, id } = act.source;
  if (kind === "issue_comment" && id !== null) return { issueComment: id };
  if (kind === "review_comment" && id !== null) return { reviewComment: id };
  return { issue: act.number };
}

/** Carries out `item`; throws on a failure worth retrying (GitHub or an object unreachable). */
export async function carryOut(host: ThreadHost, item: WorkItem): Promise<void> {
  const { env, sql, log } = host;
  const { act, progress } = item;
  const conversation = loadConversation(sql)!;
  // A review or comment on a pull request CodeForge did not open is none of its business.
  if (act.mode === "steer" && conversation.taskId === null) {
    log.info("github: steer on a pull request no task drives; ignored", { repository: act.repo.fullName, number: act.number });
    return;
  }
  const installation = installationOf(env, act.installationId);
  const repoRef = repoRefOf(act);
  const context = await installation.repoContext(act.installationId, repoRef);
  if (context.keyId === null) {
    log.warn("github: the installation is no longer mapped to a key; delivery dropped", { installation: act.installationId });
    return;
  }
  const gh = githubAppOf(env).repo(act.installationId, act.repo.owner, act.repo.name);
  const role = await installation.role(act.installationId, repoRef, act.sender.login);
  if (!senderAllowed(context.config, act.sender.login, role)) {
    log.info("github: sender may not trigger CodeForge here", { repository: act.repo.fullName, user: act.sender.login, role });
    await gh.addReaction(reactionTarget(act), "confused");
    return;
  }
  if (!progress.reacted) {
    await gh.addReaction(reactionTarget(act), "eyes");
    progress.reacted = true;
    saveProgress(sql, item.seq, progress);
  }
  if (progress.taskId === undefined) {
    try {
      const started = await startIteration(host, item, conversation, context.config, context.keyId);
      if (started === "busy") {
        await gh.createComment(act.number, busyReply({ taskId: conversation.taskId!, taskUrl: taskUrlOf(item.publicUrl, conversation.taskId!) }));
        return;
      }
      Object.assign(progress, started);
      saveProgress(sql, item.seq, progress);
    } catch (err) {
      // A refusal (the key's limits, a check of the request): said on GitHub, not retried.
      if (!(err instanceof ApiError) || err.status >= 500) throw err;
      log.warn("github: task refused", { repository: act.repo.fullName, number: act.number, code: err.code, message: err.message });
      await gh.createComment(act.number, refusedReply({ code: err.code, message: err.message }));
      return;
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
}

/** Starts the task, or a follow-up of the conversation's task; "busy" while that one still runs. */
async function startIteration(
  host: ThreadHost,
  item: WorkItem,
  conversation: Conversation,
  config: ResolvedRepoConfig,
  keyId: string,
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
  const prompt = githubTaskPrompt(act, { comments: comments.filter((c) => c.userType !== "Bot") });
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
