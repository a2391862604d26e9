/**
 * The task's ordered event log: append, page, replay.
 *
 * Events are stored as their JSON body; a stored event goes out as one JSON text built
 * around that body (`{"seq":…,"ts":…,"iteration":…,"attempt":…,` + body), so appending,
 * broadcasting and replaying never parse and re-serialize output. Iterations follow one
 * another in the one sequence: a follow-up's events come after every event of the one before.
 * @module
 */
import type { EventBody } from "#api/stream-events.js";
import type { Sql } from "../sql/migrations.js";

interface EventRow extends Record<string, SqlStorageValue> {
  seq: number;
  ts: number;
  iteration: number;
  attempt: number;
  body: string;
}

/** Appends one event and returns it as wire JSON (one element of a stream frame). */
export function appendEvent(sql: Sql, event: { ts: number; iteration: number; attempt: number; body: EventBody | string }): { seq: number; text: string } {
  const body = typeof event.body === "string" ? event.body : JSON.stringify(event.body);
  const { seq } = sql
    .exec<{ seq: number }>(
      "INSERT INTO events (ts, iteration, attempt, body) VALUES (?, ?, ?, ?) RETURNING seq",
      event.ts,
      event.iteration,
      event.attempt,
      body,
    )
    .one();
  return { seq, text: wireJson({ seq, ts: event.ts, iteration: event.iteration, attempt: event.attempt, body }) };
}

/** Events after `since`, oldest first, as wire JSON texts. */
export function* eventsSince(sql: Sql, since: number, limit = Number.MAX_SAFE_INTEGER): Generator<string> {
  const cursor = sql.exec<EventRow>("SELECT seq, ts, iteration, attempt, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", since, limit);
  for (const row of cursor) yield wireJson(row);
}

/**
 * A page of the log as the JSON text of `GET …/events` (built without re-serializing stored
 * events): up to `limit` events after `since`, where the next page starts, and the task's status.
 */
export function eventsPage(sql: Sql, since: number, limit: number, status: string): string {
  const events = [...eventsSince(sql, since, limit + 1)];
  const hasMore = events.length > limit;
  const page = hasMore ? events.slice(0, limit) : events;
  const nextSince = page.length ? (JSON.parse(page[page.length - 1]!) as { seq: number }).seq : since;
  return `{"events":[${page.join(",")}],"next_since":${nextSince},"has_more":${hasMore},"status":"${status}"}`;
}

/** Sequence number of the newest event (0 when the log is empty). */
export function lastSeq(sql: Sql): number {
  return sql.exec<{ seq: number | null }>("SELECT MAX(seq) AS seq FROM events").one().seq ?? 0;
}

function wireJson(row: { seq: number; ts: number; iteration: number; attempt: number; body: string }): string {
  return `{"seq":${row.seq},"ts":"${new Date(row.ts).toISOString()}","iteration":${row.iteration},"attempt":${row.attempt},${row.body.slice(1)}`;
}
