/**
 * How a GitHub conversation learns how the iteration it started ended, and says so: it polls
 * the task object (often at first, then less) until the iteration is over; then, for a success
 * that pushed, it opens the pull request ("Fixes #n") or, for a follow-up, brings the open
 * one's description up to date, and it rewrites its reply with the result — or, for a failure,
 * with the error and the last lines of output.
 * @module
 */
import { isTerminal, type Task } from "#api/task.js";
import { taskStub } from "../task-stub.js";
import { githubAppOf } from "./github-app-for-env.js";
import { pullRequestBody, pullRequestTitle, resultReply } from "./messages.js";
import { type Conversation, saveConversation, type Watch } from "./thread-store.js";
import { threadOf } from "./thread-stub.js";
import { taskUrlOf, type ThreadHost } from "./thread-work.js";

/** Output lines quoted in a failure's reply, at most (the reply caps them again by size). */
const TAIL_EVENTS = 200;

/** How long to wait before the next poll of an iteration that started `elapsedMs` ago. */
export function pollInterval(elapsedMs: number): number {
  if (elapsedMs < 2 * 60_000) return 2_000;
  if (elapsedMs < 30 * 60_000) return 10_000;
  return 30_000;
}

/** The last output of the task's current iteration, as text (stdout, stderr and runner lines). */
async function outputTail(host: ThreadHost, conversation: Conversation, task: Task): Promise<string> {
  const viewer = { owner: conversation.keyId!, admin: false };
  const since = Math.max(0, task.last_seq - TAIL_EVENTS);
  const page = await taskStub(host.env, task.id).eventsPage(viewer, since, TAIL_EVENTS);
  if (!page.ok) return "";
  const { events } = JSON.parse(page.value) as { events: { type: string; iteration: number; text?: string; message?: string }[] };
  return events
    .filter((e) => e.iteration === task.iteration)
    .map((e) => (e.type === "output" ? (e.text ?? "") : e.type === "log" ? `${e.message ?? ""}\n` : ""))
    .join("");
}

/** Polls the watched iteration; when it ended, reports it on GitHub and stops watching. Throws when GitHub or the task is unreachable (the next poll tries again). */
export async function pollWatch(host: ThreadHost, conversation: Conversation, now: number): Promise<Conversation> {
  const watch = conversation.watch!;
  const found = await taskStub(host.env, watch.taskId).view({ owner: conversation.keyId!, admin: false });
  // The task is gone (deleted at the end of its retention), or a newer iteration replaced ours.
  if (!found.ok || found.value.iteration !== watch.iteration) return save(host, { ...conversation, watch: null });
  const task = found.value;
  if (!isTerminal(task.status)) return save(host, { ...conversation, watch: { ...watch, nextPollAt: now + pollInterval(now - watch.startedAt) } });
  return save(host, await report(host, conversation, watch, task));
}

async function report(host: ThreadHost, conversation: Conversation, watch: Watch, task: Task): Promise<Conversation> {
  const { repo } = conversation;
  const gh = githubAppOf(host.env).repo(conversation.installationId, repo.owner, repo.name);
  const taskUrl = taskUrlOf(watch.publicUrl, task.id);
  let pullRequest = conversation.pullRequest;
  const push = task.status === "succeeded" ? (task.result?.push ?? null) : null;
  if (push) {
    const issueNumber = conversation.issueNumber ?? conversation.number;
    const body = pullRequestBody({
      issueNumber,
      summary: task.result?.final_message ?? null,
      diffStat: task.result!.diff_stat,
      costUsd: task.result?.cost_usd ?? null,
      durationMs: task.result!.duration_ms,
      taskUrl,
      taskId: task.id,
    });
    if (pullRequest === null) {
      const opened = await gh.openPullRequest({ head: push.branch, base: repo.defaultBranch, title: pullRequestTitle(conversation.title, issueNumber), body });
      pullRequest = { number: opened.number, url: opened.url };
      // Saved at once: a retry after a failure below must not open it again.
      save(host, { ...conversation, pullRequest });
      await threadOf(host.env, repo.id, opened.number).linkPullRequest({
        installationId: conversation.installationId,
        repo,
        number: opened.number,
        url: opened.url,
        title: conversation.title,
        taskId: task.id,
        keyId: conversation.keyId!,
        issueNumber,
      });
    } else {
      await gh.updatePullRequest(pullRequest.number, { body });
    }
  }
  const tail = task.status === "succeeded" ? "" : await outputTail(host, conversation, task);
  await gh.updateComment(watch.replyId, resultReply({ task, taskUrl, pullRequestUrl: pullRequest?.url ?? null, outputTail: tail }));
  host.log.info("github: reported how an iteration ended", { task_id: task.id, iteration: task.iteration, status: task.status, repository: repo.fullName });
  return { ...conversation, pullRequest, watch: null };
}

function save(host: ThreadHost, conversation: Conversation): Conversation {
  saveConversation(host.sql, conversation);
  return conversation;
}
