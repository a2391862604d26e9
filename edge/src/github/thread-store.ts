/**
 * A GitHub conversation's tables (`GitHubThread`, see `thread-object.ts`): the deliveries it
 * has seen (a redelivery starts nothing new), the work those deliveries asked for (done in
 * order from the object's alarm, each step remembered so a retry repeats none), and the
 * conversation itself — the task it drives, the pull request opened for it, and the iteration
 * it is watching. Handed the object's `sql`.
 * @module
 */
import type { Migration, Sql } from "../sql/migrations.js";
import type { GitHubAct } from "./triggers.js";

export const THREAD_MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: "deliveries, work and the conversation",
    statements: [
      "CREATE TABLE deliveries (id TEXT PRIMARY KEY, received_at INTEGER NOT NULL)",
      `CREATE TABLE work (
        seq INTEGER PRIMARY KEY,
        delivery TEXT NOT NULL,
        act TEXT NOT NULL,
        public_url TEXT NOT NULL,
        progress TEXT NOT NULL DEFAULT '{}',
        attempts INTEGER NOT NULL DEFAULT 0,
        due_at INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        done_at INTEGER
      )`,
      "CREATE TABLE conversation (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL)",
    ],
  },
];

/**
 * A steer waits this long before it is acted on: GitHub sends a review with N comments as N + 1
 * deliveries within moments, and they make one follow-up, not N + 1.
 */
export const STEER_GATHER_MS = 3_000;

/** Deliveries remembered for dedupe, and finished work kept for inspection, at most. */
const DELIVERIES_KEPT = 500;
const DONE_WORK_KEPT = 50;

/** Steps of one piece of work already done, so a retry skips them. */
export interface WorkProgress {
  reacted?: boolean;
  taskId?: string;
  iteration?: number;
  replyId?: number;
}

export interface WorkItem {
  seq: number;
  delivery: string;
  act: GitHubAct;
  publicUrl: string;
  progress: WorkProgress;
  attempts: number;
  dueAt: number;
  receivedAt: number;
}

/** The iteration a conversation waits on, to report how it ended. */
export interface Watch {
  taskId: string;
  iteration: number;
  /** The comment to update with the result. */
  replyId: number;
  publicUrl: string;
  startedAt: number;
  nextPollAt: number;
}

/** What a conversation (an issue, or a pull request CodeForge opened) knows. */
export interface Conversation {
  installationId: number;
  repo: GitHubAct["repo"];
  number: number;
  /** The issue's or pull request's title (a pull request opened for the task takes it). */
  title: string;
  /** The task this conversation drives (an issue's own; for a pull request, the task that opened it). */
  taskId: string | null;
  keyId: string | null;
  /** The issue a task was started from (`number` on an issue; the originating issue on a pull request). */
  issueNumber: number | null;
  /** The pull request opened for the task. */
  pullRequest: { number: number; url: string } | null;
  watch: Watch | null;
}

/** Records delivery `id`; false when it was seen before. */
export function rememberDelivery(sql: Sql, id: string, now: number): boolean {
  const seen = sql.exec("SELECT 1 FROM deliveries WHERE id = ?", id).toArray().length > 0;
  if (seen) return false;
  sql.exec("INSERT INTO deliveries (id, received_at) VALUES (?, ?)", id, now);
  sql.exec("DELETE FROM deliveries WHERE id NOT IN (SELECT id FROM deliveries ORDER BY received_at DESC LIMIT ?)", DELIVERIES_KEPT);
  return true;
}

export function addWork(sql: Sql, item: { delivery: string; act: GitHubAct; publicUrl: string; now: number }): void {
  sql.exec(
    "INSERT INTO work (delivery, act, public_url, due_at, received_at) VALUES (?, ?, ?, ?, ?)",
    item.delivery,
    JSON.stringify(item.act),
    item.publicUrl,
    item.act.mode === "steer" ? item.now + STEER_GATHER_MS : item.now,
    item.now,
  );
}

interface WorkRow extends Record<string, SqlStorageValue> {
  seq: number;
  delivery: string;
  act: string;
  public_url: string;
  progress: string;
  attempts: number;
  due_at: number;
  received_at: number;
}

/** The oldest unfinished work, or null. Work is done in the order it came. */
export function nextWork(sql: Sql): WorkItem | null {
  const row = sql.exec<WorkRow>("SELECT * FROM work WHERE done_at IS NULL ORDER BY seq LIMIT 1").toArray()[0];
  return row ? toItem(row) : null;
}

/** Unfinished steers that came after work `seq`, oldest first (merged into its follow-up). */
export function laterSteers(sql: Sql, seq: number): WorkItem[] {
  return sql
    .exec<WorkRow>("SELECT * FROM work WHERE done_at IS NULL AND seq > ? ORDER BY seq", seq)
    .toArray()
    .map(toItem)
    .filter((item) => item.act.mode === "steer");
}

function toItem(row: WorkRow): WorkItem {
  return {
    seq: row.seq,
    delivery: row.delivery,
    act: JSON.parse(row.act) as GitHubAct,
    publicUrl: row.public_url,
    progress: JSON.parse(row.progress) as WorkProgress,
    attempts: row.attempts,
    dueAt: row.due_at,
    receivedAt: row.received_at,
  };
}

export function saveProgress(sql: Sql, seq: number, progress: WorkProgress): void {
  sql.exec("UPDATE work SET progress = ? WHERE seq = ?", JSON.stringify(progress), seq);
}

export function retryWorkAt(sql: Sql, seq: number, dueAt: number): void {
  sql.exec("UPDATE work SET attempts = attempts + 1, due_at = ? WHERE seq = ?", dueAt, seq);
}

export function finishWork(sql: Sql, seq: number, now: number): void {
  sql.exec("UPDATE work SET done_at = ? WHERE seq = ?", now, seq);
  sql.exec(
    "DELETE FROM work WHERE done_at IS NOT NULL AND seq NOT IN (SELECT seq FROM work WHERE done_at IS NOT NULL ORDER BY seq DESC LIMIT ?)",
    DONE_WORK_KEPT,
  );
}

export function loadConversation(sql: Sql): Conversation | null {
  const row = sql.exec<{ body: string }>("SELECT body FROM conversation WHERE id = 1").toArray()[0];
  return row ? (JSON.parse(row.body) as Conversation) : null;
}

export function saveConversation(sql: Sql, conversation: Conversation): void {
  sql.exec("INSERT INTO conversation (id, body) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body", JSON.stringify(conversation));
}

/** When the alarm must next wake: the first unfinished work's due time, or the watch's next poll. */
export function nextWakeUp(sql: Sql): number | null {
  const work = sql.exec<{ due: number | null }>("SELECT MIN(due_at) AS due FROM work WHERE done_at IS NULL").toArray()[0]?.due ?? null;
  const poll = loadConversation(sql)?.watch?.nextPollAt ?? null;
  const times = [work, poll].filter((t): t is number => t !== null);
  return times.length > 0 ? Math.min(...times) : null;
}
