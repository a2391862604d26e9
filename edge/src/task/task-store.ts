/**
 * Reads and writes the task's own row. Handed the object's `sql`, nothing else.
 * @module
 */
import type { IterationBase } from "#api/runner-protocol.js";
import type { TaskStatus } from "#api/task.js";
import type { TaskError, TaskResult } from "#api/task-result.js";
import type { Sql } from "../sql/migrations.js";
import type { LifecycleState } from "./lifecycle.js";
import { NO_SECRETS, type PublicTaskSpec, type SecretSummary } from "./task-secrets.js";

/** The task row, decoded. */
export interface TaskRecord {
  id: string;
  owner: string;
  requestHash: string;
  spec: PublicTaskSpec;
  /** The owner key's `max_concurrent_tasks` when the task was made; null: no limit. */
  maxConcurrent: number | null;
  state: LifecycleState;
  /** The sealed secrets until the task ends (null once erased, or when it had none). */
  sealedSecrets: string | null;
  secretSummary: SecretSummary;
  createdAt: number;
  updatedAt: number;
  outputBytes: number;
  outputTruncated: boolean;
  /** The current iteration's result. */
  result: TaskResult | null;
  /** Where the current iteration starts (null: from `repo.ref`). */
  base: IterationBase | null;
}

interface TaskRow extends Record<string, SqlStorageValue> {
  id: string;
  owner: string;
  request_hash: string;
  spec: string;
  status: string;
  iteration: number;
  base: string | null;
  attempt: number;
  max_attempts: number;
  timeout_ms: number;
  runner_id: string | null;
  lease_hash: string | null;
  lease_expires_at: number | null;
  attempt_started_at: number | null;
  cancel_requested_at: number | null;
  requeue_at: number | null;
  last_batch_seq: number;
  completed_lease_hash: string | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
  max_concurrent: number | null;
  output_bytes: number;
  output_truncated: number;
  result: string | null;
  error: string | null;
  secrets: string | null;
  has_access_token: number;
  env_names: string;
}

/** The task, or null when this object holds none. */
export function loadTask(sql: Sql): TaskRecord | null {
  const row = sql.exec<TaskRow>("SELECT * FROM task LIMIT 1").toArray()[0];
  if (!row) return null;
  return {
    id: row.id,
    owner: row.owner,
    requestHash: row.request_hash,
    spec: JSON.parse(row.spec) as PublicTaskSpec,
    maxConcurrent: row.max_concurrent ?? null,
    sealedSecrets: row.secrets,
    secretSummary: { hasAccessToken: row.has_access_token === 1, envNames: JSON.parse(row.env_names) as string[] },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    outputBytes: row.output_bytes,
    outputTruncated: row.output_truncated === 1,
    result: row.result ? readStoredResult(row.result) : null,
    base: row.base ? (JSON.parse(row.base) as IterationBase) : null,
    state: {
      status: row.status as TaskStatus,
      iteration: row.iteration,
      attempt: row.attempt,
      maxAttempts: row.max_attempts,
      timeoutMs: row.timeout_ms,
      runnerId: row.runner_id,
      leaseHash: row.lease_hash,
      leaseExpiresAt: row.lease_expires_at,
      attemptStartedAt: row.attempt_started_at,
      cancelRequestedAt: row.cancel_requested_at,
      requeueAt: row.requeue_at,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      lastBatchSeq: row.last_batch_seq,
      completedLeaseHash: row.completed_lease_hash,
      error: row.error ? (JSON.parse(row.error) as TaskError) : null,
    },
  };
}

export function insertTask(
  sql: Sql,
  task: {
    id: string;
    owner: string;
    requestHash: string;
    spec: PublicTaskSpec;
    maxConcurrent?: number | null;
    state: LifecycleState;
    now: number;
    sealedSecrets?: string | null;
    secretSummary?: SecretSummary;
  },
): void {
  const summary = task.secretSummary ?? NO_SECRETS;
  sql.exec(
    `INSERT INTO task (id, owner, request_hash, spec, status, attempt, max_attempts, timeout_ms, requeue_at,
       last_batch_seq, created_at, updated_at, secrets, has_access_token, env_names, max_concurrent)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    task.id,
    task.owner,
    task.requestHash,
    JSON.stringify(task.spec),
    task.state.status,
    task.state.attempt,
    task.state.maxAttempts,
    task.state.timeoutMs,
    task.state.requeueAt,
    task.state.lastBatchSeq,
    task.now,
    task.now,
    task.sealedSecrets ?? null,
    summary.hasAccessToken ? 1 : 0,
    JSON.stringify(summary.envNames),
    task.maxConcurrent ?? null,
  );
}

/** Forgets the task's secrets for good (the task ended: no runner will need them again). */
export function eraseSecrets(sql: Sql): void {
  sql.exec("UPDATE task SET secrets = NULL WHERE secrets IS NOT NULL");
}

/** Writes the lifecycle columns of a new state. */
export function saveState(sql: Sql, s: LifecycleState, now: number): void {
  sql.exec(
    `UPDATE task SET status = ?, iteration = ?, attempt = ?, max_attempts = ?, runner_id = ?, lease_hash = ?, lease_expires_at = ?,
       attempt_started_at = ?, cancel_requested_at = ?, requeue_at = ?, last_batch_seq = ?, completed_lease_hash = ?,
       started_at = ?, finished_at = ?, error = ?, updated_at = ?`,
    s.status,
    s.iteration,
    s.attempt,
    s.maxAttempts,
    s.runnerId,
    s.leaseHash,
    s.leaseExpiresAt,
    s.attemptStartedAt,
    s.cancelRequestedAt,
    s.requeueAt,
    s.lastBatchSeq,
    s.completedLeaseHash,
    s.startedAt,
    s.finishedAt,
    s.error ? JSON.stringify(s.error) : null,
    now,
  );
}

/**
 * A stored result, with the fields added since it was written read as null: results stored
 * before `cost_usd`, `usage`, `push` and `sandbox` existed stay readable.
 */
export function readStoredResult(json: string): TaskResult {
  return { cost_usd: null, usage: null, push: null, sandbox: null, ...(JSON.parse(json) as Partial<TaskResult>) } as TaskResult;
}

export function saveResult(sql: Sql, result: TaskResult): void {
  sql.exec("UPDATE task SET result = ?", JSON.stringify(result));
}

/**
 * Starts the row over for a follow-up's iteration: its prompt and settings become the spec's,
 * the previous result and output usage are cleared (the iteration keeps its own), and its
 * base and freshly sealed secrets are stored. The lifecycle columns are written by `saveState`.
 */
export function startIteration(
  sql: Sql,
  input: { spec: PublicTaskSpec; base: IterationBase | null; sealedSecrets: string | null; secretSummary: SecretSummary },
): void {
  sql.exec(
    `UPDATE task SET spec = ?, base = ?, result = NULL, output_bytes = 0, output_truncated = 0,
       secrets = ?, has_access_token = ?, env_names = ?`,
    JSON.stringify(input.spec),
    input.base ? JSON.stringify(input.base) : null,
    input.sealedSecrets,
    input.secretSummary.hasAccessToken ? 1 : 0,
    JSON.stringify(input.secretSummary.envNames),
  );
}

export function saveOutputUsage(sql: Sql, bytes: number, truncated: boolean): void {
  sql.exec("UPDATE task SET output_bytes = ?, output_truncated = ?", bytes, truncated ? 1 : 0);
}
