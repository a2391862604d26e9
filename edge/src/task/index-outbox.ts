/**
 * Keeps the task index (`TaskIndex`) in step with this task, as an outbox.
 *
 * Every status change bumps `index_version` and sets `index_due_at` in the same write as the
 * change itself — so a task can never exist, or change, without a report to the index being
 * owed — and the object then reports its current state, in the background, once that write is
 * committed (nothing waits for it, creation included). A report that fails (or is lost to a
 * restart) stays owed: `index_due_at` is a deadline on the object's single alarm, which reports
 * again. The index keeps the highest version it was sent, so reports that cross or repeat are
 * harmless. Handed the object's `sql`; `task-index-reporter.ts` is the object's side that sends.
 * @module
 */
import { TASK_INDEX_PROMPT_CHARS } from "#api/limits.js";
import type { Sql } from "../sql/migrations.js";
import type { TaskIndexEntry } from "../task-index/task-index-store.js";
import { REQUEUE_CHECK_MS } from "./lifecycle.js";
import { loadTask } from "./task-store.js";

/**
 * When a report is owed, the alarm reports it this long after the change at the latest (the
 * object reports at once, so this only matters when that fails), and as long again after a
 * failure. As long as a queued task's re-offer check (`REQUEUE_CHECK_MS`): a new task's report
 * is due when its alarm falls anyway, so taking the index's acknowledgement moves no alarm.
 */
export const TASK_INDEX_RETRY_MS = REQUEUE_CHECK_MS;

/** Where reports go: the task index in production. */
export interface TaskIndexSink {
  put(entry: TaskIndexEntry): Promise<void>;
}

/** Notes, in the caller's write, that the index must hear about the task's new state. */
export function markIndexDue(sql: Sql, now: number): void {
  sql.exec("UPDATE task SET index_version = index_version + 1, index_due_at = ?", now + TASK_INDEX_RETRY_MS);
}

/** When the alarm must report to the index; null when nothing is owed. */
export function indexDeadline(sql: Sql): number | null {
  const row = sql.exec<{ due: number | null }>("SELECT index_due_at AS due FROM task WHERE index_version > indexed_version").toArray()[0];
  return row?.due ?? null;
}

/** The report owed, or null. */
export function pendingIndexEntry(sql: Sql): TaskIndexEntry | null {
  const row = sql.exec<{ v: number; done: number }>("SELECT index_version AS v, indexed_version AS done FROM task").toArray()[0];
  const task = loadTask(sql);
  if (!row || !task || row.v <= row.done) return null;
  return {
    id: task.id,
    owner: task.owner,
    status: task.state.status,
    cli: task.spec.cli,
    model: task.spec.model ?? null,
    repoUrl: task.spec.repo.url,
    repoRef: task.spec.repo.ref ?? null,
    pool: task.spec.pool,
    promptExcerpt: task.spec.prompt.slice(0, TASK_INDEX_PROMPT_CHARS),
    createdAt: task.createdAt,
    updatedAt: task.updatedAt,
    finishedAt: task.state.finishedAt,
    errorCode: task.state.error?.code ?? null,
    version: row.v,
  };
}

/** Records, in the caller's write, that the index holds `version` of the task. */
export function saveIndexAck(sql: Sql, version: number): void {
  // A newer change may have been made meanwhile: it stays owed (and is reported by its own turn).
  sql.exec(
    "UPDATE task SET indexed_version = MAX(indexed_version, ?), index_due_at = CASE WHEN index_version <= ? THEN NULL ELSE index_due_at END",
    version,
    version,
  );
}

/** What became of a report: sent and its acknowledgement handed on, none owed, or failed (still owed). */
export type ReportOutcome = "acknowledged" | "nothing owed" | "failed";

/**
 * Sends the owed report, if any, and hands the version the index took to `acknowledge` (which
 * stores it, now or with the task's next write). On a failure the report stays owed and its
 * deadline moves `TASK_INDEX_RETRY_MS` on.
 */
export async function reportToIndex(
  sql: Sql,
  index: TaskIndexSink,
  options: { now?: () => number; onFailure?: (error: unknown) => void; acknowledge?: (version: number) => void } = {},
): Promise<ReportOutcome> {
  const { now = Date.now, onFailure = () => {}, acknowledge = (version: number) => saveIndexAck(sql, version) } = options;
  const entry = pendingIndexEntry(sql);
  if (!entry) return "nothing owed";
  try {
    await index.put(entry);
  } catch (err) {
    sql.exec("UPDATE task SET index_due_at = ? WHERE index_version > indexed_version", now() + TASK_INDEX_RETRY_MS);
    onFailure(err);
    return "failed";
  }
  acknowledge(entry.version);
  return "acknowledged";
}
