/**
 * `GitHubThread`: one Durable Object per GitHub conversation — an issue, or a pull request
 * CodeForge opened — named by repository id and number (`thread-stub.ts`).
 *
 * The webhook route hands it each delivery that asks CodeForge to act; it remembers the
 * delivery id (a redelivery starts nothing new), stores the work and answers at once, so GitHub
 * gets its 202 in milliseconds. Its alarm then does the work in the order it came
 * (`thread-work.ts`: permission, 👀, task, reply), retrying a step that failed with a growing
 * pause, and watches the iteration it started until it ends (`thread-watch.ts`: pull request,
 * result reply). One object per conversation serialises what happens in it: two comments in
 * quick succession cannot start two tasks on one branch.
 * @module
 */
import type { Env } from "../env.js";
import { logFor } from "../log.js";
import { SqlObject } from "../sql/sql-object.js";
import {
  addWork,
  type Conversation,
  finishWork,
  loadConversation,
  nextWakeUp,
  nextWork,
  rememberDelivery,
  retryWorkAt,
  saveConversation,
  THREAD_MIGRATIONS,
} from "./thread-store.js";
import { pollWatch } from "./thread-watch.js";
import { carryOut, type ThreadHost } from "./thread-work.js";
import type { GitHubAct } from "./triggers.js";

/** Pauses before the retries of a failed piece of work; after the last, it is given up (and logged). */
export const WORK_RETRY_MS: readonly number[] = [2_000, 10_000, 60_000, 300_000, 1_800_000];
/** A failed poll of the watched task is tried again this much later. */
const POLL_RETRY_MS = 30_000;

export class GitHubThread extends SqlObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, THREAD_MIGRATIONS);
  }

  /** Takes a delivery's work, unless the delivery was seen before. */
  async accept(input: { delivery: string; act: GitHubAct; publicUrl: string }): Promise<{ status: "accepted" | "duplicate" }> {
    const now = Date.now();
    const { act } = input;
    const fresh = this.ctx.storage.transactionSync(() => {
      if (!rememberDelivery(this.sql, input.delivery, now)) return false;
      const conversation = loadConversation(this.sql);
      if (!conversation) {
        saveConversation(this.sql, {
          installationId: act.installationId,
          repo: act.repo,
          number: act.number,
          title: act.subject.title,
          taskId: null,
          keyId: null,
          issueNumber: act.mode === "start" ? act.number : null,
          pullRequest: null,
          watch: null,
        });
      } else if (conversation.installationId !== act.installationId || conversation.repo.cloneUrl !== act.repo.cloneUrl) {
        // The repository moved to another installation, or was renamed: use what GitHub says now.
        saveConversation(this.sql, { ...conversation, installationId: act.installationId, repo: act.repo });
      }
      addWork(this.sql, { delivery: input.delivery, act, publicUrl: input.publicUrl, now });
      return true;
    });
    if (fresh) await this.arm(now);
    return { status: fresh ? "accepted" : "duplicate" };
  }

  /** From the issue's conversation: this pull request was opened for task `taskId`, so its reviews steer that task. */
  async linkPullRequest(input: {
    installationId: number;
    repo: GitHubAct["repo"];
    number: number;
    url: string;
    title: string;
    taskId: string;
    keyId: string;
    issueNumber: number;
  }): Promise<void> {
    const existing = loadConversation(this.sql);
    saveConversation(this.sql, {
      installationId: input.installationId,
      repo: input.repo,
      number: input.number,
      title: input.title,
      taskId: input.taskId,
      keyId: input.keyId,
      issueNumber: input.issueNumber,
      pullRequest: { number: input.number, url: input.url },
      watch: existing?.watch ?? null,
    });
  }

  /** What the conversation knows (for tests and operators). */
  async conversation(): Promise<Conversation | null> {
    return loadConversation(this.sql);
  }

  override async alarm(): Promise<void> {
    const host = this.host();
    // The work that is due, in order; a failure leaves it (and what came after it) for later.
    for (let item = nextWork(this.sql); item && item.dueAt <= Date.now(); item = nextWork(this.sql)) {
      try {
        const alsoDone = await carryOut(host, item);
        for (const seq of [item.seq, ...alsoDone]) finishWork(this.sql, seq, Date.now());
      } catch (err) {
        const pause = WORK_RETRY_MS[item.attempts];
        host.log.warn("github: work failed", { delivery: item.delivery, attempt: item.attempts + 1, gives_up: pause === undefined, error: String(err) });
        if (pause === undefined) finishWork(this.sql, item.seq, Date.now());
        else retryWorkAt(this.sql, item.seq, Date.now() + pause);
        break;
      }
    }
    const conversation = loadConversation(this.sql);
    const now = Date.now();
    if (conversation?.watch && conversation.watch.nextPollAt <= now) {
      try {
        await pollWatch(host, conversation, now);
      } catch (err) {
        host.log.warn("github: reporting the task's end failed; trying again", { task_id: conversation.watch.taskId, error: String(err) });
        saveConversation(this.sql, { ...conversation, watch: { ...conversation.watch, nextPollAt: now + POLL_RETRY_MS } });
      }
    }
    await this.arm(Date.now());
  }

  private async arm(now: number): Promise<void> {
    const due = nextWakeUp(this.sql);
    if (due === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(Math.max(due, now));
  }

  private host(): ThreadHost {
    return {
      env: this.env,
      sql: this.ctx.storage.sql,
      log: logFor(this.env),
      waitUntil: (promise) => this.ctx.waitUntil(promise),
    };
  }
}
