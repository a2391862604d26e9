/**
 * The `AgentEvent`s the CLI output parsers make, built within the contract's bounds.
 *
 * Every parser (Claude Code, Codex, Gemini CLI, opencode) says the same things in its own
 * format: assistant text, a thinking summary, a tool call and its result linked by id, a retry,
 * a refused tool, a model API error, a warning. These builders keep each event valid whatever
 * the CLI printed: long text is split into chunks, tool input and messages are cut with a
 * visible mark, ids that are not short strings are left out, and a subagent's work carries
 * the id of the tool call that started it (`parent_id`).
 * @module
 */
import { OUTPUT_CHUNK_MAX_BYTES, type AgentEvent } from "#api/index.js";
import { splitUtf8, truncateUtf8 } from "../output/utf8-text.js";

/**
 * A thinking event is a summary: a watcher needs the gist of why the agent did what it did, and
 * a model's reasoning can run to tens of kilobytes a turn, which would crowd out the work itself.
 */
export const THINKING_MAX_BYTES = 2_048;

/** The contract's bound on ids, tool and model names. */
const NAME_MAX_CHARS = 200;

/** Fields that place an event: the tool call it belongs to, and the subagent's parent call. */
export interface EventLink {
  id?: unknown;
  parentId?: unknown;
}

/** Assistant text, split into chunks the contract allows; none for empty text. */
export function textEvents(text: string, link: EventLink = {}): AgentEvent[] {
  return splitUtf8(text, OUTPUT_CHUNK_MAX_BYTES).map((piece) => ({ type: "agent", kind: "text", text: piece, ...linkOf(link) }));
}

/** A summary of the model's reasoning, cut to `THINKING_MAX_BYTES`; null when there is none. */
export function thinkingEvent(text: string, link: EventLink = {}): AgentEvent | null {
  const summary = text.trim();
  if (summary.length === 0) return null;
  return { type: "agent", kind: "thinking", text: truncateUtf8(summary, THINKING_MAX_BYTES), ...linkOf(link) };
}

/** A tool call: its name, its input as compact JSON (cut to fit) and its id. */
export function toolUseEvent(tool: string, input: unknown, link: EventLink = {}): AgentEvent {
  return {
    type: "agent",
    kind: "tool_use",
    tool: truncateUtf8(tool, NAME_MAX_CHARS),
    input: truncateUtf8(JSON.stringify(input ?? {}), OUTPUT_CHUNK_MAX_BYTES),
    ...linkOf(link),
  };
}

/** What a tool call returned (cut to fit), with the id of its call. */
export function toolResultEvent(text: string, isError: boolean, link: EventLink = {}): AgentEvent {
  return { type: "agent", kind: "tool_result", text: truncateUtf8(text, OUTPUT_CHUNK_MAX_BYTES), ...(isError ? { is_error: true } : {}), ...linkOf(link) };
}

/** A message of kind `warning`, `api_error` or `permission_denied` (with `tool`), cut to fit. */
export function noticeEvent(
  kind: "warning" | "api_error" | "permission_denied",
  text: string,
  extra: { status?: unknown; tool?: unknown } & EventLink = {},
): AgentEvent {
  const event: AgentEvent = { type: "agent", kind, text: truncateUtf8(text, OUTPUT_CHUNK_MAX_BYTES), ...linkOf(extra) };
  if (isStatus(extra.status)) event.status = extra.status;
  if (typeof extra.tool === "string" && extra.tool.length > 0) event.tool = truncateUtf8(extra.tool, NAME_MAX_CHARS);
  return event;
}

/** The CLI retries a model call: attempt n of at most m, after a wait, for an HTTP status. */
export function retryEvent(fields: { attempt?: unknown; maxAttempts?: unknown; retryInMs?: unknown; status?: unknown; text?: unknown }): AgentEvent {
  const event: AgentEvent = { type: "agent", kind: "retry" };
  if (isCount(fields.attempt)) event.attempt = fields.attempt;
  if (isCount(fields.maxAttempts)) event.max_attempts = fields.maxAttempts;
  if (typeof fields.retryInMs === "number" && Number.isFinite(fields.retryInMs) && fields.retryInMs >= 0) event.retry_in_ms = fields.retryInMs;
  if (isStatus(fields.status)) event.status = fields.status;
  if (typeof fields.text === "string" && fields.text.length > 0) event.text = truncateUtf8(fields.text, OUTPUT_CHUNK_MAX_BYTES);
  return event;
}

/** A short string id as the contract takes it, or undefined. */
export function idOf(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 && value.length <= NAME_MAX_CHARS ? value : undefined;
}

function linkOf(link: EventLink): Pick<AgentEvent, "id" | "parent_id"> {
  const id = idOf(link.id);
  const parentId = idOf(link.parentId);
  return { ...(id !== undefined ? { id } : {}), ...(parentId !== undefined ? { parent_id: parentId } : {}) };
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

function isStatus(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 100 && value <= 999;
}
