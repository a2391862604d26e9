/**
 * Measuring, splitting and cutting text by its UTF-8 size, never inside a character.
 *
 * The contract bounds output chunks and event fields in UTF-8 bytes (`OUTPUT_CHUNK_MAX_BYTES`),
 * while JavaScript strings count UTF-16 units; these functions bridge the two for the output
 * batcher and the stream parser.
 * @module
 */

const TRUNCATION_MARK = "…[truncated]";
const TRUNCATION_MARK_BYTES = Buffer.byteLength(TRUNCATION_MARK);

/** Size of `text` in UTF-8 bytes. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/**
 * Splits `text` into pieces of at most `maxBytes` UTF-8 bytes each. A character larger than
 * `maxBytes` (only possible when `maxBytes` < 4) gets a piece of its own.
 */
export function splitUtf8(text: string, maxBytes: number): string[] {
  if (text.length === 0) return [];
  if (text.length * 3 <= maxBytes) return [text];
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return [text];
  const pieces: string[] = [];
  for (let start = 0; start < bytes.length; ) {
    let end = Math.min(start + maxBytes, bytes.length);
    // Step back off continuation bytes (10xxxxxx) so the cut falls between characters.
    while (end < bytes.length && end > start && (bytes[end]! & 0xc0) === 0x80) end--;
    if (end === start) {
      end++;
      while (end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end++;
    }
    pieces.push(bytes.toString("utf8", start, end));
    start = end;
  }
  return pieces;
}

/** `text` cut to at most `maxBytes` UTF-8 bytes, ending in a visible mark when cut. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes || utf8Bytes(text) <= maxBytes) return text;
  return splitUtf8(text, maxBytes - TRUNCATION_MARK_BYTES)[0]! + TRUNCATION_MARK;
}
