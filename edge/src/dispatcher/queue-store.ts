/**
 * The dispatcher's priority queue of task ids, in SQLite.
 *
 * The queue is an index, not the truth: each task object owns its task and re-offers itself
 * while it stays queued, so an entry lost here is restored, and an entry offered twice is
 * refused by the task object. Enqueueing the same task twice keeps one entry (primary key).
 * @module
 */
import type { Migration, Sql } from "../sql/migrations.js";

export interface QueueEntry {
  taskId: string;
  priority: number;
  cli: string;
  labels: string[];
}

/** What a runner can run. */
export interface RunnerOffer {
  runnerId: string;
  clis: string[];
  labels: string[];
}

/** How many queued candidates one take looks at before giving up on label matches. */
const CANDIDATE_SCAN_LIMIT = 500;

export const QUEUE_MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: "queue",
    statements: [
      `CREATE TABLE queue (
        task_id TEXT PRIMARY KEY,
        priority INTEGER NOT NULL,
        cli TEXT NOT NULL,
        labels TEXT NOT NULL,
        enqueued_seq INTEGER NOT NULL
      )`,
      "CREATE INDEX queue_order ON queue (priority DESC, enqueued_seq ASC)",
    ],
  },
];

/** True when `runner` can run `entry`: it has the CLI and every label the task asks for. */
export function canRun(runner: RunnerOffer, entry: Pick<QueueEntry, "cli" | "labels">): boolean {
  return runner.clis.includes(entry.cli) && entry.labels.every((label) => runner.labels.includes(label));
}

export function insertEntry(sql: Sql, entry: QueueEntry): void {
  sql.exec(
    `INSERT OR IGNORE INTO queue (task_id, priority, cli, labels, enqueued_seq)
     VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(enqueued_seq), 0) + 1 FROM queue))`,
    entry.taskId,
    entry.priority,
    entry.cli,
    JSON.stringify(entry.labels),
  );
}

export function removeEntry(sql: Sql, taskId: string): void {
  sql.exec("DELETE FROM queue WHERE task_id = ?", taskId);
}

/** Removes and returns the highest-priority, oldest entry `runner` can run. */
export function takeEntry(sql: Sql, runner: RunnerOffer): string | null {
  if (runner.clis.length === 0) return null;
  const placeholders = runner.clis.map(() => "?").join(",");
  const rows = sql.exec<{ task_id: string; cli: string; labels: string }>(
    `SELECT task_id, cli, labels FROM queue WHERE cli IN (${placeholders})
     ORDER BY priority DESC, enqueued_seq ASC LIMIT ?`,
    ...runner.clis,
    CANDIDATE_SCAN_LIMIT,
  );
  for (const row of rows) {
    if (canRun(runner, { cli: row.cli, labels: JSON.parse(row.labels) as string[] })) {
      removeEntry(sql, row.task_id);
      return row.task_id;
    }
  }
  return null;
}

export function queueDepth(sql: Sql): number {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM queue").one().n;
}
