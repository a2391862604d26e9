/**
 * Redis replies as the Upstash REST API writes them in JSON.
 *
 * Bulk strings become JSON strings — base64 of their bytes when the client asked with
 * `Upstash-Encoding: base64` (what `@upstash/redis` does by default), else UTF-8 text — except
 * the status `OK`, which Upstash leaves alone and its client expects as is. Integers stay
 * numbers, nil is null, arrays nest.
 * @module
 */

export type Encoding = "base64" | "utf8";

export type JsonReply = string | number | null | JsonReply[];

export function encodeReply(reply: unknown, encoding: Encoding): JsonReply {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === "number") return reply;
  if (typeof reply === "bigint") return Number(reply);
  if (Buffer.isBuffer(reply)) {
    const text = reply.toString("utf8");
    if (text === "OK" || encoding === "utf8") return text;
    return reply.toString("base64");
  }
  if (typeof reply === "string") return reply === "OK" || encoding === "utf8" ? reply : Buffer.from(reply).toString("base64");
  if (Array.isArray(reply)) return reply.map((item) => encodeReply(item, encoding));
  return String(reply);
}

/** Command arguments as Redis takes them: JSON numbers and booleans as their text. */
export function commandArgs(command: unknown): [string, ...string[]] | null {
  if (!Array.isArray(command) || command.length === 0) return null;
  const parts = command.map((part) => (typeof part === "string" ? part : typeof part === "object" && part !== null ? JSON.stringify(part) : String(part)));
  return parts as [string, ...string[]];
}
