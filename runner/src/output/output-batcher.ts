/**
 * Turns a task's output into numbered event batches and posts them to the edge, in order.
 *
 * Raw stdout/stderr bytes become `output` events: decoded with a streaming `TextDecoder` per
 * stream (a character split across reads stays whole), merged while they wait, cut into
 * chunks of at most `OUTPUT_CHUNK_MAX_BYTES` of UTF-8, each with its byte `offset` in its
 * stream. Parsed `agent` events and runner `log` lines join the same ordered queue. While a
 * phase is set (`setPhase("setup")`), output and log lines are marked with it.
 *
 * Sending is Nagle-like: when no batch is in flight, what is queued goes out at once (within
 * the same event-loop turn, so an idle task's output reaches the edge in milliseconds); while
 * one is in flight, output accumulates and leaves in the next batch, so a chatty CLI makes
 * few, full requests. Batches are numbered 1, 2, 3, … and only one is in flight at a time; a
 * batch that fails with a retryable error is sent again unchanged (same `batch_seq`, same
 * events) after a backoff, which the edge acknowledges idempotently. An unrecoverable error
 * (a stale lease above all) stops the batcher and is reported through `onFatal`.
 *
 * Memory is bounded: when queued output passes `maxBufferedBytes`, `pushOutput` does not
 * resolve until the edge has caught up, and since its caller reads the child's pipe only
 * after that, the CLI itself is slowed down — real backpressure, not a growing buffer. Output
 * past `outputMaxBytes` for the whole task is dropped, with one warning in the log.
 *
 * Nothing leaves the machine unmasked: this is the one place every event passes through, so
 * the task's secrets are replaced here — in decoded output through a stream masker per
 * stream (a secret split across two reads is still caught), and in every string field of
 * agent and log events.
 * @module
 */
import {
  BATCH_MAX_EVENTS,
  OUTPUT_CHUNK_MAX_BYTES,
  RUNNER_BODY_MAX_BYTES,
  type EventBatch,
  type EventBatchAck,
  type EventPhase,
  type LogEvent,
  type OutputEvent,
  type RunnerEvent,
} from "#api/index.js";
import { backoffDelayMs, sleep, type BackoffPolicy } from "../edge-link/backoff.js";
import { classifyEdgeError } from "../edge-link/edge-error.js";
import { createSecretMasker, type SecretMasker } from "../secrets/secret-masker.js";
import { splitUtf8, utf8Bytes } from "./utf8-text.js";

export type OutputStream = OutputEvent["stream"];

export interface OutputBatcherOptions {
  leaseId: string;
  /** Posts one batch (`EdgeClient.postEvents` bound to the task). */
  post: (batch: EventBatch) => Promise<EventBatchAck>;
  /** Every acknowledgement, e.g. to honour `cancel_requested`. */
  onAck?: (ack: EventBatchAck) => void;
  /** The batcher gave up: an unrecoverable error, or retries for longer than `giveUpAfterMs`. */
  onFatal?: (err: unknown) => void;
  /** Called before each retry, for logging. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Queued output above which `pushOutput` waits for the edge. */
  maxBufferedBytes?: number;
  /** Output sent for the whole task; later output is dropped. */
  outputMaxBytes?: number;
  /** Consecutive failures of one batch for this long make the batcher give up. */
  giveUpAfterMs?: number;
  backoff?: BackoffPolicy;
  now?: () => number;
  /** The task's secrets, masked in everything sent. */
  masker?: SecretMasker;
}

export interface OutputBatcher {
  /** Queues raw bytes; resolves once the queue is under its memory bound. */
  pushOutput(stream: OutputStream, bytes: Uint8Array): Promise<void>;
  /** Queues structured events (agent, log). Never waits. */
  pushEvents(events: readonly RunnerEvent[]): void;
  /** Queues a runner `log` line. */
  log(level: LogEvent["level"], message: string): void;
  /**
   * Marks the output and log lines queued from now on as `phase` (null: the CLI's run, unmarked).
   * What the streams' decoders still hold is queued first, under the phase it was written in.
   */
  setPhase(phase: EventPhase | null): void;
  /** Decodes what is left in the streams' decoders and resolves when every batch is acknowledged. Rejects if the batcher failed. */
  flush(): Promise<void>;
  /** Stops sending and retrying; pending events are dropped. */
  close(): void;
  /** The last batch the edge acknowledged (0 before the first). */
  readonly lastBatchSeq: number;
}

/** Memory bound for queued output of one task. */
export const BUFFERED_BYTES_MAX_DEFAULT = 4 * 1_048_576;

/** Room under the body limit for the batch envelope and JSON escaping estimates. */
const BATCH_BODY_BUDGET_BYTES = RUNNER_BODY_MAX_BYTES - 65_536;

const LOG_MESSAGE_MAX_BYTES = 4_000;

interface Queued {
  event: RunnerEvent;
  /** UTF-8 bytes of output text (0 for other events). */
  bytes: number;
}

/**
 * @example
 * const batcher = createOutputBatcher({ leaseId, post: (b) => client.postEvents(taskId, b) });
 * for await (const chunk of cli.stdout) await batcher.pushOutput("stdout", chunk);
 * await batcher.flush();
 */
export function createOutputBatcher(options: OutputBatcherOptions): OutputBatcher {
  const {
    leaseId,
    post,
    maxBufferedBytes = BUFFERED_BYTES_MAX_DEFAULT,
    outputMaxBytes = Number.POSITIVE_INFINITY,
    giveUpAfterMs = 10 * 60_000,
    backoff = { baseMs: 100, maxMs: 5_000 },
    now = Date.now,
    masker = createSecretMasker([]),
  } = options;

  const queue: Queued[] = [];
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  const maskers = { stdout: masker.createStream(), stderr: masker.createStream() };
  let phase: EventPhase | null = null;
  const offsets = { stdout: 0, stderr: 0 };
  let queuedBytes = 0;
  let outputBytesTotal = 0;
  let outputCapWarned = false;
  let nextSeq = 1;
  let lastAcked = 0;
  let inFlight = false;
  let scheduled = false;
  let closed = false;
  let fatal: { err: unknown } | null = null;
  const closing = new AbortController();
  let drainWaiters: (() => void)[] = [];
  let idleWaiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];

  function enqueueText(stream: OutputStream, text: string) {
    if (text.length === 0) return;
    let bytes = utf8Bytes(text);
    if (outputBytesTotal + bytes > outputMaxBytes) {
      const room = outputMaxBytes - outputBytesTotal;
      text = room > 3 ? (splitUtf8(text, room)[0] ?? "") : "";
      bytes = utf8Bytes(text);
      if (!outputCapWarned) {
        outputCapWarned = true;
        queueLater(logEvent("warn", `Output passed ${outputMaxBytes} bytes; further output of this task is not sent.`));
      }
      if (bytes === 0) return;
    }
    outputBytesTotal += bytes;
    // Fill the newest chunk of the same stream before starting another.
    const last = queue[queue.length - 1];
    if (
      last &&
      last.event.type === "output" &&
      last.event.stream === stream &&
      last.event.phase === (phase ?? undefined) &&
      last.bytes <= OUTPUT_CHUNK_MAX_BYTES - 4
    ) {
      const [head = "", ...rest] = splitUtf8(text, OUTPUT_CHUNK_MAX_BYTES - last.bytes);
      if (head && utf8Bytes(head) + last.bytes <= OUTPUT_CHUNK_MAX_BYTES) {
        const headBytes = utf8Bytes(head);
        last.event.text += head;
        last.bytes += headBytes;
        queuedBytes += headBytes;
        offsets[stream] += headBytes;
        text = rest.join("");
      }
    }
    for (const piece of splitUtf8(text, OUTPUT_CHUNK_MAX_BYTES)) {
      const pieceBytes = utf8Bytes(piece);
      queue.push({ event: { type: "output", stream, text: piece, offset: offsets[stream], ...(phase ? { phase } : {}) }, bytes: pieceBytes });
      offsets[stream] += pieceBytes;
      queuedBytes += pieceBytes;
    }
  }

  function queueLater(event: RunnerEvent) {
    queue.push({ event, bytes: 0 });
  }

  function kick() {
    if (scheduled || inFlight || closed || fatal || queue.length === 0) return;
    scheduled = true;
    // One turn of the event loop: stdout and stderr read in the same turn share a batch.
    setImmediate(() => {
      scheduled = false;
      void sendNext();
    });
  }

  function takeBatch(): { events: RunnerEvent[]; bytes: number } {
    const events: RunnerEvent[] = [];
    let bytes = 0;
    let bodyBytes = 0;
    while (queue.length > 0 && events.length < BATCH_MAX_EVENTS) {
      const next = queue[0]!;
      // JSON size, not text size: escaping can make a chunk of control characters 6× larger.
      const size = utf8Bytes(JSON.stringify(next.event));
      if (events.length > 0 && bodyBytes + size > BATCH_BODY_BUDGET_BYTES) break;
      queue.shift();
      events.push(next.event);
      bytes += next.bytes;
      bodyBytes += size;
    }
    return { events, bytes };
  }

  async function sendNext() {
    if (inFlight || closed || fatal || queue.length === 0) return;
    inFlight = true;
    const { events, bytes } = takeBatch();
    const batch: EventBatch = { lease_id: leaseId, batch_seq: nextSeq++, events };
    let firstFailureAt = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        const ack = await post(batch);
        if (closed) return;
        lastAcked = batch.batch_seq;
        queuedBytes -= bytes;
        inFlight = false;
        options.onAck?.(ack);
        break;
      } catch (err) {
        if (closed) return;
        if (firstFailureAt === 0) firstFailureAt = now();
        if (classifyEdgeError(err) !== "retryable" || now() - firstFailureAt >= giveUpAfterMs) {
          fail(err);
          return;
        }
        const delay = backoffDelayMs(attempt, backoff);
        options.onRetry?.(err, attempt, delay);
        await sleep(delay, closing.signal);
        if (closed) return;
      }
    }
    if (queuedBytes <= maxBufferedBytes / 2) releaseDrainWaiters();
    if (queue.length > 0) void sendNext();
    else settleIdle();
  }

  function fail(err: unknown) {
    fatal = { err };
    inFlight = false;
    releaseDrainWaiters();
    for (const waiter of idleWaiters) waiter.reject(err);
    idleWaiters = [];
    options.onFatal?.(err);
  }

  function releaseDrainWaiters() {
    const waiters = drainWaiters;
    drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  function settleIdle() {
    if (inFlight || queue.length > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  function logEvent(level: LogEvent["level"], message: string): LogEvent {
    return { type: "log", source: "runner", level, message: splitUtf8(message, LOG_MESSAGE_MAX_BYTES)[0] ?? "", ...(phase ? { phase } : {}) };
  }

  return {
    async pushOutput(stream, bytes) {
      if (closed || fatal) return;
      enqueueText(stream, maskers[stream].push(decoders[stream].decode(bytes, { stream: true })));
      kick();
      if (queuedBytes > maxBufferedBytes) {
        await new Promise<void>((resolve) => drainWaiters.push(resolve));
      }
    },
    pushEvents(events) {
      if (closed || fatal || events.length === 0) return;
      for (const event of events) queue.push({ event: maskEvent(event, masker), bytes: 0 });
      kick();
    },
    log(level, message) {
      this.pushEvents([logEvent(level, message)]);
    },
    setPhase(next) {
      if (next === phase) return;
      if (!closed && !fatal) {
        for (const stream of ["stdout", "stderr"] as const) {
          enqueueText(stream, maskers[stream].push(decoders[stream].decode()) + maskers[stream].end());
          maskers[stream] = masker.createStream();
        }
        kick();
      }
      phase = next;
    },
    flush() {
      if (fatal) return Promise.reject(fatal.err);
      if (closed) return Promise.resolve();
      for (const stream of ["stdout", "stderr"] as const) {
        enqueueText(stream, maskers[stream].push(decoders[stream].decode()) + maskers[stream].end());
      }
      if (!inFlight && queue.length === 0) return Promise.resolve();
      const idle = new Promise<void>((resolve, reject) => idleWaiters.push({ resolve, reject }));
      kick();
      return idle;
    },
    close() {
      closed = true;
      closing.abort();
      queue.length = 0;
      releaseDrainWaiters();
      // Nothing more will be sent: whoever waits for a flush may go on.
      for (const waiter of idleWaiters.splice(0)) waiter.resolve();
    },
    get lastBatchSeq() {
      return lastAcked;
    },
  };
}

/** The event with its secrets masked (a copy; masking only ever shortens a field). */
function maskEvent(event: RunnerEvent, masker: SecretMasker): RunnerEvent {
  if (masker.empty) return event;
  switch (event.type) {
    case "log":
      return { ...event, message: masker.mask(event.message) };
    case "output":
      return { ...event, text: masker.mask(event.text) };
    case "agent": {
      const masked = { ...event };
      for (const key of ["text", "tool", "input", "model", "id", "parent_id"] as const) {
        const value = masked[key];
        if (value !== undefined) masked[key] = masker.mask(value);
      }
      return masked;
    }
    case "egress_denied":
      return { ...event, host: masker.mask(event.host), reason: masker.mask(event.reason) };
    case "usage":
      return event; // Numbers only.
  }
}
