/**
 * A task index shard's table: one row per task of the owners it serves, with what lists show
 * and nothing more, upserted by version so a late or repeated report never overwrites a newer
 * one, and read newest first with a cursor. Handed the object's `sql`.
 * @module
 */
import type { TaskStatus } from "#api/task.js";
import type { TaskSummary } from "#api/task-queries.js";
import type { CliName } from "#api/task-request.js";
import type { TaskError } from "#api/task-result.js";
import type { Migration, Sql } from "../sql/migrations.js";

export const TASK_INDEX_MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: "task index",
    statements: [
      `CREATE TABLE tasks (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        status TEXT NOT NULL,
        cli TEXT NOT NULL,
        model TEXT,
        repo_url TEXT NOT NULL,
        repo_ref TEXT,
        pool TEXT NOT NULL,
        prompt_excerpt TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        finished_at INTEGER,
        error_code TEXT,
        version INTEGER NOT NULL
      )`,
      // One index per filter combination the list offers, each in list order.
      "CREATE INDEX tasks_created ON tasks (created_at, id)",
      "CREATE INDEX tasks_owner ON tasks (owner, created_at, id)",
      "CREATE INDEX tasks_status ON tasks (status, created_at, id)",
      "CREATE INDEX tasks_owner_status ON tasks (owner, status, created_at, id)",
    ],
  },
];

/** What a task reports about itself; `version` grows with every report it makes. */
export interface TaskIndexEntry {
  id: string;
  owner: string;
  status: TaskStatus;
  cli: CliName;
  model: string | null;
  repoUrl: string;
  repoRef: string | null;
  pool: string;
  promptExcerpt: string;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
  errorCode: TaskError["code"] | null;
  version: number;
}

interface IndexRow extends Record<string, SqlStorageValue> {
  id: string;
  owner: string;
  status: string;
  cli: string;
  model: string | null;
  repo_url: string;
  repo_ref: string | null;
  pool: string;
  prompt_excerpt: string;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  error_code: string | null;
}

/** Stores the entry unless the index already holds this version of the task or a newer one. */
export function putEntry(sql: Sql, e: TaskIndexEntry): void {
  sql.exec(
    `INSERT INTO tasks (id, owner, status, cli, model, repo_url, repo_ref, pool, prompt_excerpt, created_at, updated_at, finished_at, error_code, version)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at,
       finished_at = excluded.finished_at, error_code = excluded.error_code, version = excluded.version
     WHERE excluded.version > tasks.version`,
    e.id,
    e.owner,
    e.status,
    e.cli,
    e.model,
    e.repoUrl,
    e.repoRef,
    e.pool,
    e.promptExcerpt,
    e.createdAt,
    e.updatedAt,
    e.finishedAt,
    e.errorCode,
    e.version,
  );
}

export interface TaskIndexFilter {
  /** Null: every owner (admins). */
  owner: string | null;
  status?: TaskStatus;
  /** Only tasks listed after this one (created earlier, or at the same time with a smaller id). */
  after?: { createdAt: number; id: string };
  limit: number;
}

/** Drops a task's entry. A later report of it would add it again: its object sends none once deleted. */
export function removeEntry(sql: Sql, id: string): void {
  sql.exec("DELETE FROM tasks WHERE id = ?", id);
}

/** Tasks matching the filter, newest first. */
export function queryEntries(sql: Sql, f: TaskIndexFilter): TaskSummary[] {
  const where: string[] = [];
  const args: SqlStorageValue[] = [];
  if (f.owner !== null) {
    where.push("owner = ?");
    args.push(f.owner);
  }
  if (f.status !== undefined) {
    where.push("status = ?");
    args.push(f.status);
  }
  if (f.after) {
    where.push("(created_at < ? OR (created_at = ? AND id < ?))");
    args.push(f.after.createdAt, f.after.createdAt, f.after.id);
  }
  const text = `SELECT * FROM tasks ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at DESC, id DESC LIMIT ?`;
  return sql
    .exec<IndexRow>(text, ...args, f.limit)
    .toArray()
    .map((row) => ({
      id: row.id,
      owner: row.owner,
      status: row.status as TaskStatus,
      cli: row.cli as CliName,
      model: row.model,
      repo: { url: row.repo_url, ref: row.repo_ref },
      pool: row.pool,
      prompt_excerpt: row.prompt_excerpt,
      created_at: new Date(row.created_at).toISOString(),
      updated_at: new Date(row.updated_at).toISOString(),
      finished_at: row.finished_at === null ? null : new Date(row.finished_at).toISOString(),
      error_code: row.error_code as TaskError["code"] | null,
      links: { self: `/api/v1/tasks/${row.id}` },
    }));
}

/** The cursor that continues a list after `task`. */
export function cursorAfter(task: TaskSummary): string {
  return `${Date.parse(task.created_at)}_${task.id}`;
}

/** The position a `next_cursor` names. */
export function parseCursor(cursor: string): { createdAt: number; id: string } {
  const at = cursor.indexOf("_");
  return { createdAt: Number(cursor.slice(0, at)), id: cursor.slice(at + 1) };
}
