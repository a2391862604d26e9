/**
 * The packed form of a CLI's session files: what the runner uploads and a later lease brings
 * back (`CliSession.archive`, base64 of these bytes).
 *
 * gzip over one JSON header line — `{"v":1,"files":[{"path","bytes"}…]}` — followed by every
 * file's bytes in that order. Paths are relative to the CLI's HOME. Unpacking trusts nothing: the
 * uncompressed size is bounded while it inflates (a small archive cannot grow into gigabytes),
 * and every path must be a plain relative path (no `..`, nothing absolute, no empty part); where
 * a path may go is for the caller to decide.
 * @module
 */
import { gunzipSync, gzipSync } from "node:zlib";
import path from "node:path";

/** Session files' bytes before compression, together: bounds the runner's memory for one session. */
export const SESSION_FILES_MAX_BYTES = 64 * 1_048_576;

/** The header line's own bound: thousands of paths, far beyond one session's few files. */
const HEADER_MAX_BYTES = 1_048_576;

/** Files in one archive: a session is a transcript and a handful of side files. */
const FILES_MAX = 1_000;

export interface SessionFile {
  /** Relative to HOME, with `/` between parts. */
  path: string;
  data: Uint8Array;
}

/** The archive could not be read; `message` says why and is safe to log. */
export class SessionArchiveError extends Error {
  override name = "SessionArchiveError";
}

/**
 * Packs and compresses `files`.
 * @example const archive = packSession([{ path: ".claude/projects/-workspace/abc.jsonl", data }]).toString("base64");
 */
export function packSession(files: readonly SessionFile[]): Buffer {
  const header = JSON.stringify({ v: 1, files: files.map((file) => ({ path: file.path, bytes: file.data.byteLength })) });
  return gzipSync(Buffer.concat([Buffer.from(`${header}\n`), ...files.map((file) => Buffer.from(file.data))]));
}

/** Decompresses and checks an archive `packSession` made. Throws `SessionArchiveError`. */
export function unpackSession(archive: Uint8Array): SessionFile[] {
  let raw: Buffer;
  try {
    raw = gunzipSync(archive, { maxOutputLength: SESSION_FILES_MAX_BYTES + HEADER_MAX_BYTES });
  } catch (err) {
    throw new SessionArchiveError(err instanceof RangeError ? "it unpacks to more than the session size limit" : "it is not a gzip stream");
  }
  const newline = raw.indexOf(0x0a);
  if (newline < 0 || newline > HEADER_MAX_BYTES) throw new SessionArchiveError("it has no header");
  let header: unknown;
  try {
    header = JSON.parse(raw.subarray(0, newline).toString("utf8"));
  } catch {
    throw new SessionArchiveError("its header is not JSON");
  }
  const entries = (header as { v?: unknown; files?: unknown }).files;
  if ((header as { v?: unknown }).v !== 1 || !Array.isArray(entries) || entries.length > FILES_MAX)
    throw new SessionArchiveError("its header is not one this runner reads");
  const files: SessionFile[] = [];
  let at = newline + 1;
  for (const entry of entries as { path?: unknown; bytes?: unknown }[]) {
    if (typeof entry.path !== "string" || !isPlainRelativePath(entry.path)) throw new SessionArchiveError("it names a path outside HOME");
    if (!Number.isSafeInteger(entry.bytes) || (entry.bytes as number) < 0 || at + (entry.bytes as number) > raw.length)
      throw new SessionArchiveError("its sizes do not add up");
    files.push({ path: entry.path, data: raw.subarray(at, at + (entry.bytes as number)) });
    at += entry.bytes as number;
  }
  if (at !== raw.length) throw new SessionArchiveError("its sizes do not add up");
  return files;
}

/** `a/b/c`: relative, normalized, no `.` or `..` parts, no backslashes or NULs. */
export function isPlainRelativePath(name: string): boolean {
  if (name.length === 0 || name.length > 4_096 || /[\\\0]/.test(name) || path.posix.isAbsolute(name)) return false;
  return name.split("/").every((part) => part !== "" && part !== "." && part !== "..");
}
