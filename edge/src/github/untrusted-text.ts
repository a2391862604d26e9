/**
 * Untrusted text (issue and comment bodies, the agent's output) cut to size and fenced so it
 * can never close the fence around it.
 *
 * A Markdown code fence ends only at a line of at least as many backticks as opened it, so a
 * fence one backtick longer than the longest run inside the text cannot be closed by that text:
 * the text is shown as it is, with nothing escaped, and whatever follows the fence is ours.
 * @module
 */

/** Said where text was cut, so neither a reader nor the agent takes a part for the whole. */
const CUT_NOTE = "\n[… cut]";

/**
 * `text` in at most `maxChars` characters: cut (never inside a surrogate pair) with a note
 * saying so when longer, as it is otherwise.
 */
export function capText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  if (maxChars <= CUT_NOTE.length) return sliceWhole(text, maxChars);
  return sliceWhole(text, maxChars - CUT_NOTE.length) + CUT_NOTE;
}

/** The last `maxChars` characters of `text` (never starting inside a surrogate pair). */
export function tailText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  let start = text.length - maxChars;
  if (isLowSurrogate(text.charCodeAt(start))) start += 1;
  return text.slice(start);
}

/** `text` in a code fence it cannot close, with an optional info string (`diff`, `text`). */
export function fence(text: string, info = ""): string {
  const longestRun = Math.max(0, ...Array.from(text.matchAll(/`+/g), (m) => m[0].length));
  const ticks = "`".repeat(Math.max(3, longestRun + 1));
  const body = text.endsWith("\n") ? text : `${text}\n`;
  return `${ticks}${info}\n${body}${ticks}`;
}

function sliceWhole(text: string, end: number): string {
  return isHighSurrogate(text.charCodeAt(end - 1)) ? text.slice(0, end - 1) : text.slice(0, end);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
