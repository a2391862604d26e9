/**
 * The events of a task's log, as stored, streamed over WebSocket and paged as JSON.
 *
 * A task's log is ordered: every event has a `seq`, 1, 2, 3, … with no gaps, assigned by the
 * task's Durable Object when it stores the event. A watcher that saw up to `seq` N asks for
 * `since=N` and gets exactly what it missed. Runners post `RunnerEvent`s without a `seq`; the
 * edge adds its own `status` and `result` events in the same sequence.
 *
 * On the WebSocket every message is a `StreamFrame`: a JSON array of the events appended
 * together, oldest first, each with its own `seq`. A frame is serialised once and the same text
 * goes to every watcher, so fan-out costs one send per watcher per turn, not one per event.
 * @module
 */
import { z } from "zod";
import { OUTPUT_CHUNK_MAX_BYTES } from "./limits.js";
import { TaskStatus } from "./task.js";
import { TaskError, TaskResult } from "./task-result.js";

/**
 * The phase of the attempt an event belongs to, when it is not the CLI's run: `setup` for the
 * task's setup commands (their output, the runner's lines about them, connections they were
 * refused). Absent: the CLI's run or the runner's own lines, as before phases existed, so a
 * client that does not know the field shows setup output as ordinary output.
 */
export const EventPhase = z.enum(["setup"]);
export type EventPhase = z.infer<typeof EventPhase>;

/** Raw bytes the CLI wrote, decoded as UTF-8, in chunks of at most 16 KiB. */
export const OutputEvent = z.strictObject({
  type: z.literal("output"),
  stream: z.enum(["stdout", "stderr"]),
  text: z.string().max(OUTPUT_CHUNK_MAX_BYTES),
  /** Byte offset of this chunk within its stream, for this attempt. */
  offset: z.number().int().nonnegative(),
  /** `setup`: written by a setup command, not the CLI. */
  phase: EventPhase.optional(),
});
export type OutputEvent = z.infer<typeof OutputEvent>;

/** A line from the runner or the edge about the task itself (cloning, cancel requested, …). */
export const LogEvent = z.strictObject({
  type: z.literal("log"),
  source: z.enum(["runner", "edge"]),
  level: z.enum(["info", "warn", "error"]),
  message: z.string().max(4_096),
  /** `setup`: about the task's setup (a command starting, failing, the setup's time). */
  phase: EventPhase.optional(),
});
export type LogEvent = z.infer<typeof LogEvent>;

/**
 * Structured output of the CLI, parsed from its own format (Claude Code's `stream-json`, …).
 *
 * Kinds: `init` (session start: model), `text` (assistant text), `thinking` (a summary of the
 * model's reasoning), `tool_use` / `tool_result` (linked by `id`), `result` (the main agent's
 * closing message and the CLI's own figures), `retry` (the CLI retries a failed model call:
 * `attempt`, `max_attempts`, `retry_in_ms`, `status`), `permission_denied` (a tool call the CLI
 * refused: `tool`, `text`), `api_error` (a model API error the CLI gave up on or reported:
 * `status`, `text`), `warning` (something the CLI warned about, not an error). Work of a
 * subagent carries `parent_id`: the id of the tool call that started it.
 */
export const AgentEvent = z.strictObject({
  type: z.literal("agent"),
  kind: z.enum(["init", "text", "thinking", "tool_use", "tool_result", "result", "retry", "permission_denied", "api_error", "warning"]),
  /** Assistant text, thinking summary, tool result content, the final message, or an error or warning message. */
  text: z.string().max(OUTPUT_CHUNK_MAX_BYTES).optional(),
  /** The tool call's id, on `tool_use` and its `tool_result`. */
  id: z.string().max(200).optional(),
  /** Set on a subagent's events: the id of the tool call (`tool_use`) that started the subagent. */
  parent_id: z.string().max(200).optional(),
  /** For `retry`: this attempt's number, the most the CLI will make, and the wait before it. */
  attempt: z.number().int().nonnegative().optional(),
  max_attempts: z.number().int().nonnegative().optional(),
  retry_in_ms: z.number().nonnegative().optional(),
  /** For `retry` and `api_error`: the HTTP status the model API answered, when known. */
  status: z.number().int().min(0).max(999).optional(),
  /** Tool name, for `tool_use`. */
  tool: z.string().max(200).optional(),
  /** Tool input as compact JSON, cut to fit, for `tool_use`. */
  input: z.string().max(OUTPUT_CHUNK_MAX_BYTES).optional(),
  is_error: z.boolean().optional(),
  model: z.string().max(200).optional(),
  cost_usd: z.number().nonnegative().optional(),
  input_tokens: z.number().int().nonnegative().optional(),
  output_tokens: z.number().int().nonnegative().optional(),
  cache_read_input_tokens: z.number().int().nonnegative().optional(),
  cache_creation_input_tokens: z.number().int().nonnegative().optional(),
});
export type AgentEvent = z.infer<typeof AgentEvent>;

/** Marks the point where the task's output reached its cap; later output is dropped. */
export const TruncatedEvent = z.strictObject({
  type: z.literal("truncated"),
  limit_bytes: z.number().int().positive(),
});
export type TruncatedEvent = z.infer<typeof TruncatedEvent>;

/**
 * The sandbox tried to open a connection the egress policy refuses (the pool's policy, or the
 * task's `egress_allow` narrowing it). Written by the runner's egress proxy, once per refusal.
 */
export const EgressDeniedEvent = z.strictObject({
  type: z.literal("egress_denied"),
  /** The host the sandbox asked for, as it named it (a name or an address). */
  host: z.string().max(260),
  port: z.number().int().min(0).max(65_535),
  /** Why it was refused: not on the allowlist, a private or metadata address, … */
  reason: z.string().max(1_024),
  /** `setup`: refused to a setup command (under the setup's egress policy), not the CLI. */
  phase: EventPhase.optional(),
});
export type EgressDeniedEvent = z.infer<typeof EgressDeniedEvent>;

/**
 * The attempt's model usage so far, as the runner's model gateway metered it (every call: main
 * agent, subagents, side calls), sent after each call. Totals of this attempt, not deltas.
 */
export const UsageEvent = z.strictObject({
  type: z.literal("usage"),
  calls: z.number().int().nonnegative(),
  input_tokens: z.number().int().nonnegative(),
  output_tokens: z.number().int().nonnegative(),
  cache_read_input_tokens: z.number().int().nonnegative(),
  cache_creation_input_tokens: z.number().int().nonnegative(),
  /** Priced by the runner's price table; null when a model used is not in it. */
  cost_usd: z.number().nonnegative().nullable(),
  /** The iteration's budget, when it has one (the same for every usage event of the attempt). */
  max_cost_usd: z.number().nonnegative().nullable().optional(),
  max_tokens: z.number().int().nonnegative().nullable().optional(),
});
export type UsageEvent = z.infer<typeof UsageEvent>;

/** What a runner may post in an event batch. */
export const RunnerEvent = z.discriminatedUnion("type", [OutputEvent, LogEvent, AgentEvent, EgressDeniedEvent, UsageEvent]);
export type RunnerEvent = z.infer<typeof RunnerEvent>;

/** A change of the task's status, written by the edge. */
export const StatusEvent = z.strictObject({
  type: z.literal("status"),
  status: TaskStatus,
  runner_id: z.string().nullable(),
  error: TaskError.nullable(),
  /** Why the status changed, when the error does not say (a runner handed the task back). */
  reason: z.string().max(1_024).optional(),
});
export type StatusEvent = z.infer<typeof StatusEvent>;

/** The result the runner reported, written just before the terminal status. */
export const ResultEvent = z.strictObject({
  type: z.literal("result"),
  result: TaskResult,
});
export type ResultEvent = z.infer<typeof ResultEvent>;

/** Marks the start of an iteration after the first (a follow-up): its events follow. */
export const IterationEvent = z.strictObject({
  type: z.literal("iteration"),
  iteration: z.number().int().positive(),
  prompt: z.string(),
});
export type IterationEvent = z.infer<typeof IterationEvent>;

export const EventBody = z.discriminatedUnion("type", [
  OutputEvent,
  LogEvent,
  AgentEvent,
  EgressDeniedEvent,
  UsageEvent,
  TruncatedEvent,
  StatusEvent,
  ResultEvent,
  IterationEvent,
]);
export type EventBody = z.infer<typeof EventBody>;

/** Fields every stored event carries. */
export const EventEnvelope = z.object({
  seq: z.number().int().positive(),
  /** ISO 8601 time the edge stored the event. */
  ts: z.string(),
  /** Iteration the event belongs to: 1, then one more per follow-up. */
  iteration: z.number().int().positive(),
  /** Attempt of that iteration the event belongs to (0 before its first lease). */
  attempt: z.number().int().nonnegative(),
});

/** One event of a task's log. */
export type StreamEvent = z.infer<typeof EventEnvelope> & EventBody;
export const StreamEvent = z.intersection(EventEnvelope, EventBody) as unknown as z.ZodType<StreamEvent>;

/**
 * One WebSocket message of `GET /api/v1/tasks/:id/stream`: the events the task appended in one
 * turn (a runner's batch; a status change with the events that go with it), or a slice of the
 * replay, in `seq` order. Never empty; at most `STREAM_FRAME_MAX_EVENTS` events, and cut before
 * `STREAM_FRAME_MAX_CHARS` characters unless one event alone is larger.
 */
export const StreamFrame = z.array(StreamEvent).min(1);
export type StreamFrame = StreamEvent[];

/**
 * The events one stream message carries. Reads this version's frames (arrays) and an older
 * edge's frames of one event each (an object with a `seq`), so a client may be upgraded first;
 * any other message (the edge's answer to a client that writes to the stream) carries none.
 */
export function streamFrameEvents(message: string): StreamEvent[] {
  const parsed: unknown = JSON.parse(message);
  if (Array.isArray(parsed)) return parsed as StreamEvent[];
  const single = parsed !== null && typeof parsed === "object" && typeof (parsed as { seq?: unknown }).seq === "number";
  return single ? [parsed as StreamEvent] : [];
}

/** `GET /api/v1/tasks/:id/events` */
export const EventsPage = z.object({
  events: z.array(StreamEvent),
  /** Pass as `since` to get the next page. */
  next_since: z.number().int().nonnegative(),
  has_more: z.boolean(),
  status: TaskStatus,
});
export type EventsPage = z.infer<typeof EventsPage>;

/** Close code sent to stream watchers when the task has ended and everything was sent. */
export const STREAM_CLOSE_TASK_ENDED = 1000;
