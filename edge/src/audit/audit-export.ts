/**
 * `GET /api/v1/audit/export`: every entry of a time range as NDJSON (one `AuditEntry` a line),
 * oldest first, streamed as it is read, for an admin to keep the log beyond its retention.
 *
 * The directory names the shards of the range holding entries; each day's are read a page at
 * a time and merged by (time, slice, seq). One request
 * reads at most `AUDIT_EXPORT_CALLS_MAX` pages (a request's subrequests are bounded); when the
 * range is longer than that, the last line is `{"next_cursor": "<id>"}` instead of an entry,
 * and the same request with `cursor` goes on after it. Streaming over HTTP works the same under
 * `wrangler dev` and deployed and needs no other service; a scheduled job that pages through it
 * into object storage (R2, S3) is the way to archive at scale.
 * @module
 */
import type { AuditEntry, AuditExportQuery } from "#api/audit.js";
import { AUDIT_RETENTION_DAYS } from "#api/limits.js";
import type { Env } from "../env.js";
import { AUDIT_SHARDS_PER_DAY, auditDirectory, auditShard, DAY_MS, dayOf } from "./audit-shards.js";
import { type AuditPosition, parseAuditPosition } from "./audit-store.js";

/** Shard pages one export request reads (500 entries each: up to ~250,000 entries). */
export const AUDIT_EXPORT_CALLS_MAX = 500;
const EXPORT_PAGE = 500;

/** One slice's entries of a day after a position, a page at a time. */
class SliceReader {
  private buffer: AuditEntry[] = [];
  private done = false;
  constructor(
    private readonly read: (after: { at: number; seq: number } | null) => Promise<AuditEntry[]>,
    private after: { at: number; seq: number } | null,
  ) {}

  /** The next entry without taking it; null when the slice has no more. Counts a page read in `calls`. */
  async peek(calls: { n: number }): Promise<AuditEntry | null> {
    if (this.buffer.length === 0 && !this.done) {
      calls.n += 1;
      this.buffer = await this.read(this.after);
      this.done = this.buffer.length < EXPORT_PAGE;
    }
    return this.buffer[0] ?? null;
  }

  take(): AuditEntry {
    const entry = this.buffer.shift()!;
    const p = parseAuditPosition(entry.id);
    this.after = { at: p.at, seq: p.seq };
    return entry;
  }
}

const oldestFirst = (a: AuditPosition, b: AuditPosition) => a.at - b.at || a.shard - b.shard || a.seq - b.seq;

/** The position just before `day` starts: a cursor that resumes at that day's first entry. */
const dayStart = (day: number): string => `${day * DAY_MS - 1}-${AUDIT_SHARDS_PER_DAY - 1}-${Number.MAX_SAFE_INTEGER}`;

/** The export as a stream of NDJSON lines. */
export function exportAuditShards(env: Env, q: AuditExportQuery, now: number): ReadableStream<Uint8Array> {
  const sinceMs = Math.max(q.since === undefined ? 0 : Date.parse(q.since), (dayOf(now) - AUDIT_RETENTION_DAYS) * DAY_MS);
  const untilMs = Math.min(q.until === undefined ? now : Date.parse(q.until), now + DAY_MS);
  const from = q.cursor === undefined ? null : parseAuditPosition(q.cursor);
  const lastDay = dayOf(untilMs - 1);
  const encoder = new TextEncoder();
  const calls = { n: 0 };
  const firstDay = dayOf(Math.max(sinceMs, from?.at ?? 0));
  /** The days of the range with shards holding entries, oldest first, and their slices. */
  let days: [number, number[]][] | null = null;
  let readers: SliceReader[] | null = null;
  let last: string | null = null;

  // Each slice starts after the cursor's position in (at, slice, seq) order, or at `since`.
  const startOf = (shard: number) => {
    if (from === null || from.at < sinceMs) return { at: sinceMs - 1, seq: Number.MAX_SAFE_INTEGER };
    return { at: from.at, seq: shard < from.shard ? Number.MAX_SAFE_INTEGER : shard > from.shard ? 0 : from.seq };
  };
  const slicesOf = (d: number, slices: number[]) =>
    slices.map((shard) => new SliceReader((after) => auditShard(env, d, shard).exportPage(shard, { after, untilMs, limit: EXPORT_PAGE }), startOf(shard)));

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (days === null) {
        const byDay = new Map<number, number[]>();
        for (const { day, slice } of (await auditDirectory(env).shards(firstDay, lastDay)).reverse()) byDay.set(day, [...(byDay.get(day) ?? []), slice]);
        days = [...byDay];
      }
      const lines: string[] = [];
      let next: string | null = null;
      while (lines.length < EXPORT_PAGE && days.length > 0) {
        const [day, slices] = days[0]!;
        if (calls.n + AUDIT_SHARDS_PER_DAY > AUDIT_EXPORT_CALLS_MAX) {
          // Out of calls: the last line says where the next request goes on.
          next = last !== null && dayOf(parseAuditPosition(last).at) === day ? last : dayStart(day);
          break;
        }
        readers ??= slicesOf(day, slices);
        const heads = await Promise.all(readers.map((r) => r.peek(calls)));
        let pick = -1;
        heads.forEach((h, i) => {
          if (h && (pick < 0 || oldestFirst(parseAuditPosition(h.id), parseAuditPosition(heads[pick]!.id)) < 0)) pick = i;
        });
        if (pick < 0) {
          days.shift();
          readers = null;
          continue;
        }
        const entry = readers[pick]!.take();
        last = entry.id;
        lines.push(JSON.stringify(entry));
      }
      if (next !== null) lines.push(JSON.stringify({ next_cursor: next }));
      if (lines.length) controller.enqueue(encoder.encode(`${lines.join("\n")}\n`));
      if (next !== null || days.length === 0) controller.close();
    },
  });
}
