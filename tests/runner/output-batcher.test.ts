// Unit: the output batcher against an in-test `post` function that records, delays or fails
// batches the way the edge would.
import { describe, expect, it } from "vitest";
import { BATCH_MAX_EVENTS, EventBatch, OUTPUT_CHUNK_MAX_BYTES, type EventBatchAck, type OutputEvent, type RunnerEvent } from "#api/index.js";
import { EdgeError } from "../../runner/src/edge-link/edge-error.js";
import { createOutputBatcher, type OutputBatcherOptions } from "../../runner/src/output/output-batcher.js";

const enc = (text: string) => new TextEncoder().encode(text);
const ack = (seq: number): EventBatchAck => ({ stored: true, last_batch_seq: seq, cancel_requested: false });

/** A post function whose answers the test controls. */
function controlledPost() {
  const sent: EventBatch[] = [];
  const pending: { batch: EventBatch; resolve: (a: EventBatchAck) => void; reject: (e: unknown) => void }[] = [];
  const post = (batch: EventBatch) =>
    new Promise<EventBatchAck>((resolve, reject) => {
      sent.push(structuredClone(batch));
      pending.push({ batch, resolve, reject });
    });
  const next = async () => {
    for (let i = 0; i < 200 && pending.length === 0; i++) await new Promise((r) => setTimeout(r, 2));
    const p = pending.shift();
    if (!p) throw new Error("no batch was posted");
    return p;
  };
  return { sent, post, next, pendingCount: () => pending.length };
}

function autoAck() {
  const sent: EventBatch[] = [];
  return { sent, post: async (batch: EventBatch) => (sent.push(structuredClone(batch)), ack(batch.batch_seq)) };
}

function make(options: Partial<OutputBatcherOptions> & Pick<OutputBatcherOptions, "post">) {
  return createOutputBatcher({ leaseId: "lse_test", backoff: { baseMs: 1, maxMs: 4 }, ...options });
}

const outputs = (batches: EventBatch[], stream?: "stdout" | "stderr") =>
  batches.flatMap((b) => b.events).filter((e): e is OutputEvent => e.type === "output" && (!stream || e.stream === stream));

describe("output batcher", () => {
  it("sends output at once when nothing is in flight", async () => {
    const edge = controlledPost();
    const batcher = make({ post: edge.post });
    const pushedAt = performance.now();
    void batcher.pushOutput("stdout", enc("hello\n"));
    const first = await edge.next();
    expect(performance.now() - pushedAt).toBeLessThan(50);
    expect(first.batch).toEqual({ lease_id: "lse_test", batch_seq: 1, events: [{ type: "output", stream: "stdout", text: "hello\n", offset: 0 }] });
    first.resolve(ack(1));
  });

  it("coalesces output that arrives while a batch is in flight into the next batch", async () => {
    const edge = controlledPost();
    const batcher = make({ post: edge.post });
    void batcher.pushOutput("stdout", enc("a"));
    const first = await edge.next();
    for (const piece of ["b", "c", "d"]) void batcher.pushOutput("stdout", enc(piece));
    batcher.log("info", "between");
    void batcher.pushOutput("stdout", enc("e"));
    await new Promise((r) => setTimeout(r, 20));
    expect(edge.pendingCount()).toBe(0); // still only one request in flight
    first.resolve(ack(1));
    const second = await edge.next();
    expect(second.batch.batch_seq).toBe(2);
    expect(second.batch.events).toEqual([
      { type: "output", stream: "stdout", text: "bcd", offset: 1 },
      { type: "log", source: "runner", level: "info", message: "between" },
      { type: "output", stream: "stdout", text: "e", offset: 4 },
    ]);
    second.resolve(ack(2));
    await batcher.flush();
    expect(batcher.lastBatchSeq).toBe(2);
  });

  it("keeps stdout and stderr offsets apart and the queue in push order", async () => {
    const edge = autoAck();
    const batcher = make({ post: edge.post });
    await batcher.pushOutput("stdout", enc("out1 "));
    await batcher.pushOutput("stderr", enc("err1 "));
    batcher.pushEvents([{ type: "agent", kind: "text", text: "hi" }]);
    await batcher.pushOutput("stdout", enc("out2"));
    await batcher.flush();
    const events = edge.sent.flatMap((b) => b.events);
    expect(events).toEqual([
      { type: "output", stream: "stdout", text: "out1 ", offset: 0 },
      { type: "output", stream: "stderr", text: "err1 ", offset: 0 },
      { type: "agent", kind: "text", text: "hi" },
      { type: "output", stream: "stdout", text: "out2", offset: 5 },
    ]);
    expect(edge.sent.map((b) => b.batch_seq)).toEqual(edge.sent.map((_, i) => i + 1));
  });

  it("cuts output into chunks of at most 16 KiB of UTF-8 with byte offsets, never splitting a character", async () => {
    const edge = autoAck();
    const batcher = make({ post: edge.post });
    const text = "ab€😀".repeat(40_000); // 1+1+3+4 bytes: 360 000 bytes
    const bytes = enc(text);
    // Reads of odd sizes split characters between pushes.
    for (let i = 0; i < bytes.length; i += 7_777) await batcher.pushOutput("stdout", bytes.subarray(i, i + 7_777));
    await batcher.flush();
    const chunks = outputs(edge.sent);
    let offset = 0;
    for (const chunk of chunks) {
      expect(chunk.offset).toBe(offset);
      const size = Buffer.byteLength(chunk.text);
      expect(size).toBeLessThanOrEqual(OUTPUT_CHUNK_MAX_BYTES);
      offset += size;
    }
    expect(chunks.map((c) => c.text).join("")).toBe(text);
    expect(offset).toBe(bytes.length);
    for (const batch of edge.sent) {
      expect(batch.events.length).toBeLessThanOrEqual(BATCH_MAX_EVENTS);
      expect(EventBatch.safeParse(batch).success).toBe(true);
    }
  });

  it("decodes a character split across reads once, and a dangling partial one at flush as U+FFFD", async () => {
    const edge = autoAck();
    const batcher = make({ post: edge.post });
    const bytes = enc("日本");
    await batcher.pushOutput("stdout", bytes.subarray(0, 2));
    await batcher.pushOutput("stdout", bytes.subarray(2, 5));
    await batcher.pushOutput("stdout", bytes.subarray(5));
    await batcher.pushOutput("stderr", enc("é").subarray(0, 1));
    await batcher.flush();
    expect(
      outputs(edge.sent, "stdout")
        .map((c) => c.text)
        .join(""),
    ).toBe("日本");
    expect(
      outputs(edge.sent, "stderr")
        .map((c) => c.text)
        .join(""),
    ).toBe("\uFFFD");
  });

  it("retries a failed batch with the same batch_seq and content, then carries on in order", async () => {
    const edge = controlledPost();
    const retries: number[] = [];
    const batcher = make({ post: edge.post, onRetry: (_err, attempt) => retries.push(attempt) });
    void batcher.pushOutput("stdout", enc("first"));
    (await edge.next()).reject(new TypeError("fetch failed"));
    (await edge.next()).reject(new EdgeError("unavailable", 503, "unavailable"));
    void batcher.pushOutput("stdout", enc("second"));
    (await edge.next()).resolve(ack(1));
    (await edge.next()).resolve(ack(2));
    await batcher.flush();
    expect(edge.sent.map((b) => b.batch_seq)).toEqual([1, 1, 1, 2]);
    expect(edge.sent[1]).toEqual(edge.sent[0]);
    expect(edge.sent[2]).toEqual(edge.sent[0]);
    expect(outputs([edge.sent[3]!])[0]).toMatchObject({ text: "second", offset: 5 });
    expect(retries).toEqual([1, 2]);
  });

  it("stops for good on a stale lease and reports it", async () => {
    const edge = controlledPost();
    const fatal: unknown[] = [];
    const batcher = make({ post: edge.post, onFatal: (err) => fatal.push(err) });
    void batcher.pushOutput("stdout", enc("x"));
    (await edge.next()).reject(new EdgeError("stale", 409, "lease_stale"));
    await new Promise((r) => setTimeout(r, 20));
    expect(fatal).toHaveLength(1);
    await expect(batcher.flush()).rejects.toThrow("stale");
    await batcher.pushOutput("stdout", enc("more"));
    await new Promise((r) => setTimeout(r, 20));
    expect(edge.sent).toHaveLength(1);
  });

  it("gives up on a batch that keeps failing longer than giveUpAfterMs", async () => {
    const fatal: unknown[] = [];
    let now = 0;
    const batcher = make({
      post: async () => {
        now += 1_000;
        throw new TypeError("fetch failed");
      },
      giveUpAfterMs: 5_000,
      now: () => now,
      onFatal: (err) => fatal.push(err),
    });
    await batcher.pushOutput("stdout", enc("x"));
    await expect(batcher.flush()).rejects.toThrow("fetch failed");
    expect(fatal).toHaveLength(1);
  });

  it("applies backpressure: pushOutput waits while queued output is over the bound", async () => {
    const edge = controlledPost();
    const batcher = make({ post: edge.post, maxBufferedBytes: 64 * 1024 });
    void batcher.pushOutput("stdout", enc("start"));
    const first = await edge.next();
    let resolved = false;
    const blocked = batcher.pushOutput("stdout", new Uint8Array(100 * 1024).fill(0x61)).then(() => (resolved = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(resolved).toBe(false);
    first.resolve(ack(1));
    // The 100 KiB leave in later batches; the writer may go on once the queue has drained.
    (await edge.next()).resolve(ack(2));
    await blocked;
    expect(resolved).toBe(true);
  });

  it("drops output past the task's cap with one warning", async () => {
    const edge = autoAck();
    const batcher = make({ post: edge.post, outputMaxBytes: 1_000 });
    for (let i = 0; i < 5; i++) await batcher.pushOutput("stdout", new Uint8Array(1_000).fill(0x62));
    batcher.pushEvents([{ type: "agent", kind: "result", is_error: false } satisfies RunnerEvent]);
    await batcher.flush();
    expect(outputs(edge.sent).reduce((n, c) => n + c.text.length, 0)).toBe(1_000);
    const warnings = edge.sent.flatMap((b) => b.events).filter((e) => e.type === "log" && e.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(edge.sent.flatMap((b) => b.events).at(-1)).toMatchObject({ type: "agent", kind: "result" });
  });

  it("passes every ack on, so the task can honour cancel_requested", async () => {
    const acks: EventBatchAck[] = [];
    const batcher = make({ post: async (b) => ({ ...ack(b.batch_seq), cancel_requested: true }), onAck: (a) => acks.push(a) });
    await batcher.pushOutput("stdout", enc("x"));
    await batcher.flush();
    expect(acks).toEqual([{ stored: true, last_batch_seq: 1, cancel_requested: true }]);
  });
});
