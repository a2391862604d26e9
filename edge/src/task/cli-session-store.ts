/**
 * A task's saved CLI sessions: the conversation one iteration's CLI left, kept so the next
 * iteration's CLI can resume it (see `CliSession` in the contract).
 *
 * A session is a secret of the task — its transcript may quote anything the agent read — so it
 * is sealed with the task secrets' box (`secret-box.ts`), bound to the task and the iteration,
 * and stored in parts that keep each row well under SQLite's 2 MB value limit. Nothing reads it
 * but the lease; it is in no view, event, log line or webhook.
 *
 * When it counts: iteration n's runner uploads the session before it completes, and the row
 * names the lease that sent it. It counts once that same lease completes the iteration — an
 * attempt that uploaded and then lost its lease leaves nothing a later iteration would resume,
 * and the next attempt's lease clears it. A lease of iteration n+1 gets iteration n's counted
 * session or none (an older one would not know what iteration n did). So at most two are kept:
 * the one the current iteration resumes and the one it is making; the rest are deleted as soon
 * as a newer one exists, and all of them with the task's storage when its retention ends.
 * Handed the object's `sql`, nothing else.
 * @module
 */
import { CliSession } from "#api/runner-protocol.js";
import type { Sql } from "../sql/migrations.js";
import type { SecretBox } from "./secret-box.js";

/** Sealed text per row: well under SQLite's 2 MB limit on one value in Durable Objects. */
export const SESSION_PART_MAX_CHARS = 1_000_000;

/** Stores iteration `iteration`'s session as sent by the lease `leaseHash`, replacing an earlier attempt's. */
export function storeSession(sql: Sql, input: { iteration: number; leaseHash: string; sealed: string; now: number }): void {
  // Older than the one this iteration resumes: never resumed again.
  sql.exec("DELETE FROM cli_sessions WHERE iteration = ? OR iteration < ?", input.iteration, input.iteration - 1);
  for (let part = 0, at = 0; at < input.sealed.length || part === 0; part++, at += SESSION_PART_MAX_CHARS) {
    sql.exec(
      "INSERT INTO cli_sessions (iteration, part, lease_hash, completed, stored_at, sealed) VALUES (?, ?, ?, 0, ?, ?)",
      input.iteration,
      part,
      input.leaseHash,
      input.now,
      input.sealed.slice(at, at + SESSION_PART_MAX_CHARS),
    );
  }
}

/** The lease `leaseHash` completed iteration `iteration`: its session (if it sent one) counts. */
export function markSessionCompleted(sql: Sql, iteration: number, leaseHash: string): void {
  sql.exec("UPDATE cli_sessions SET completed = 1 WHERE iteration = ? AND lease_hash = ?", iteration, leaseHash);
  // A newer conversation counts now: the one this iteration resumed is never needed again.
  sql.exec("DELETE FROM cli_sessions WHERE iteration < ? AND EXISTS (SELECT 1 FROM cli_sessions WHERE iteration = ? AND completed = 1)", iteration, iteration);
}

/**
 * A new attempt of iteration `iteration` is leased: what an earlier attempt of it sent goes, and
 * so does anything the iteration could not resume.
 */
export function clearForAttempt(sql: Sql, iteration: number): void {
  sql.exec("DELETE FROM cli_sessions WHERE iteration >= ? OR iteration < ? OR (iteration = ? AND completed = 0)", iteration, iteration - 1, iteration - 1);
}

/** The sealed session a lease of iteration `iteration` resumes: iteration n-1's, if it counted. */
export function sessionToResume(sql: Sql, iteration: number): string | null {
  const parts = sql.exec<{ sealed: string }>("SELECT sealed FROM cli_sessions WHERE iteration = ? AND completed = 1 ORDER BY part", iteration - 1).toArray();
  return parts.length ? parts.map((row) => row.sealed).join("") : null;
}

/** Seals a session for iteration `iteration` of task `taskId`. */
export function sealSession(box: SecretBox, taskId: string, iteration: number, session: CliSession): Promise<string> {
  return box.seal(JSON.stringify(session), sessionContext(taskId, iteration));
}

/** Opens what `sealSession` sealed for the same task and iteration; throws otherwise. */
export async function openSession(box: SecretBox, taskId: string, iteration: number, sealed: string): Promise<CliSession> {
  return CliSession.parse(JSON.parse(await box.open(sealed, sessionContext(taskId, iteration))));
}

/** Bound to task and iteration: a sealed session opens nowhere else, nor as the task's other secrets. */
function sessionContext(taskId: string, iteration: number): string {
  return `${taskId}/cli-session/${iteration}`;
}
