/**
 * The task's iterations: one row per iteration (the first, then one per follow-up), with what
 * it was asked and where its events start, and — once a later iteration begins — how it
 * ended. The current iteration's live state stays in the task row. Handed `sql`, nothing else.
 * @module
 */
import type { TaskIteration, TaskStatus } from "#api/task.js";
import type { TaskError, TaskResult } from "#api/task-result.js";
import type { Sql } from "../sql/migrations.js";
import type { LifecycleState } from "./lifecycle.js";
import { readStoredResult } from "./task-store.js";

export interface IterationRecord {
  n: number;
  prompt: string;
  model: string | null;
  createdAt: number;
  firstSeq: number;
  idempotencyKey: string | null;
  requestHash: string | null;
  /** Null while this is the current iteration (the task row holds its state). */
  ended: {
    status: TaskStatus;
    attempt: number;
    result: TaskResult | null;
    error: TaskError | null;
    startedAt: number | null;
    finishedAt: number | null;
  } | null;
}

interface IterationRow extends Record<string, SqlStorageValue> {
  n: number;
  prompt: string;
  model: string | null;
  created_at: number;
  first_seq: number;
  idempotency_key: string | null;
  request_hash: string | null;
  status: string | null;
  attempt: number | null;
  result: string | null;
  error: string | null;
  started_at: number | null;
  finished_at: number | null;
}

const decode = (row: IterationRow): IterationRecord => ({
  n: row.n,
  prompt: row.prompt,
  model: row.model,
  createdAt: row.created_at,
  firstSeq: row.first_seq,
  idempotencyKey: row.idempotency_key,
  requestHash: row.request_hash,
  ended:
    row.status === null
      ? null
      : {
          status: row.status as TaskStatus,
          attempt: row.attempt ?? 0,
          result: row.result ? readStoredResult(row.result) : null,
          error: row.error ? (JSON.parse(row.error) as TaskError) : null,
          startedAt: row.started_at,
          finishedAt: row.finished_at,
        },
});

/** Every iteration, oldest first. */
export function listIterations(sql: Sql): IterationRecord[] {
  return sql.exec<IterationRow>("SELECT * FROM iterations ORDER BY n").toArray().map(decode);
}

/** The iteration a follow-up with this Idempotency-Key started, if one did. */
export function iterationByIdempotencyKey(sql: Sql, key: string): IterationRecord | null {
  const row = sql.exec<IterationRow>("SELECT * FROM iterations WHERE idempotency_key = ?", key).toArray()[0];
  return row ? decode(row) : null;
}

/** Records the start of iteration `n`. */
export function insertIteration(
  sql: Sql,
  it: { n: number; prompt: string; model: string | null; createdAt: number; firstSeq: number; idempotencyKey?: string | null; requestHash?: string | null },
): void {
  sql.exec(
    "INSERT INTO iterations (n, prompt, model, created_at, first_seq, idempotency_key, request_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
    it.n,
    it.prompt,
    it.model,
    it.createdAt,
    it.firstSeq,
    it.idempotencyKey ?? null,
    it.requestHash ?? null,
  );
}

/** Writes how the current iteration ended into its row, before the next one takes the task row. */
export function closeIteration(sql: Sql, state: LifecycleState, result: TaskResult | null): void {
  sql.exec(
    "UPDATE iterations SET status = ?, attempt = ?, result = ?, error = ?, started_at = ?, finished_at = ? WHERE n = ?",
    state.status,
    state.attempt,
    result ? JSON.stringify(result) : null,
    state.error ? JSON.stringify(state.error) : null,
    state.startedAt,
    state.finishedAt,
    state.iteration,
  );
}

/** The newest result of any iteration: the current one's, else the latest earlier one's. */
export function latestResult(current: TaskResult | null, iterations: readonly IterationRecord[]): TaskResult | null {
  if (current) return current;
  for (let i = iterations.length - 1; i >= 0; i--) {
    const result = iterations[i]!.ended?.result;
    if (result) return result;
  }
  return null;
}

/** An iteration as the task view lists it; `current` supplies the live state of the last one. */
export function iterationView(it: IterationRecord, current: { state: LifecycleState; result: TaskResult | null } | null): TaskIteration {
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  const ended = current
    ? {
        status: current.state.status,
        attempt: current.state.attempt,
        result: current.result,
        error: current.state.error,
        startedAt: current.state.startedAt,
        finishedAt: current.state.finishedAt,
      }
    : it.ended;
  let result: TaskIteration["result"] = null;
  if (ended?.result) {
    const { patch: _patch, ...rest } = ended.result;
    result = rest;
  }
  return {
    n: it.n,
    prompt: it.prompt,
    model: it.model,
    status: ended?.status ?? "queued",
    attempt: ended?.attempt ?? 0,
    result,
    error: ended?.error ?? null,
    created_at: iso(it.createdAt)!,
    started_at: iso(ended?.startedAt ?? null),
    finished_at: iso(ended?.finishedAt ?? null),
    first_seq: it.firstSeq,
  };
}
