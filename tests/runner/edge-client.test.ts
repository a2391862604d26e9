// Integration: the signed client against a real HTTP server standing in for the edge, and the
// classification of what can go wrong.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createEdgeClient } from "../../runner/src/edge-link/edge-client.js";
import { classifyEdgeError, EdgeError } from "../../runner/src/edge-link/edge-error.js";
import { startFakeEdge, type FakeEdge } from "./harness/fake-edge.js";

let edge: FakeEdge;
beforeEach(async () => {
  edge = await startFakeEdge();
});
afterEach(() => edge.close());

const leaseRequest = { runner_id: "runner-1", pool: "default", clis: ["demo" as const], labels: [], wait_ms: 50, running: 0, capacity: 1 };

describe("edge client", () => {
  it("gets null after an empty long poll and a lease once a task is queued, with signed requests", async () => {
    const client = createEdgeClient({ edgeUrl: edge.url, secret: edge.secret });
    expect(await client.lease(leaseRequest)).toBeNull();
    const task = edge.enqueue({ repo: { url: "https://example.com/o/r.git", ref: null } });
    const lease = await client.lease(leaseRequest);
    expect(lease?.task_id).toBe(task.id);
    expect(lease?.task.repo.url).toBe("https://example.com/o/r.git");
    const ack = await client.heartbeat(task.id, { lease_id: lease!.lease_id, phase: "running" });
    expect(ack.cancel_requested).toBe(false);
    const eventsAck = await client.postEvents(task.id, {
      lease_id: lease!.lease_id,
      batch_seq: 1,
      events: [{ type: "log", source: "runner", level: "info", message: "hi" }],
    });
    expect(eventsAck).toEqual({ stored: true, last_batch_seq: 1, cancel_requested: false });
    expect(edge.violations).toEqual([]);
  });

  it("wakes a waiting long poll as soon as a task arrives", async () => {
    const client = createEdgeClient({ edgeUrl: edge.url, secret: edge.secret });
    const started = Date.now();
    const pending = client.lease({ ...leaseRequest, wait_ms: 5_000 });
    setTimeout(() => edge.enqueue({ repo: { url: "https://example.com/o/r.git", ref: null } }), 100);
    expect(await pending).not.toBeNull();
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("turns a refused signature into an unrecoverable 401 that says what to check", async () => {
    const client = createEdgeClient({ edgeUrl: edge.url, secret: "the-wrong-secret-0123456789" });
    const err = await client.lease(leaseRequest).catch((e) => e);
    expect(err).toBeInstanceOf(EdgeError);
    expect(err.status).toBe(401);
    expect(err.message).toMatch(/signature/);
    expect(classifyEdgeError(err)).toBe("unrecoverable");
  });

  it("classifies a stale lease, a 503 and a network failure", async () => {
    const client = createEdgeClient({ edgeUrl: edge.url, secret: edge.secret });
    const task = edge.enqueue({ repo: { url: "https://example.com/o/r.git", ref: null } });
    const lease = (await client.lease(leaseRequest))!;
    const batch = {
      lease_id: lease.lease_id,
      batch_seq: 1,
      events: [{ type: "log" as const, source: "runner" as const, level: "info" as const, message: "x" }],
    };

    edge.failEvents(1, 503);
    const unavailable = await client.postEvents(task.id, batch).catch((e) => e);
    expect(unavailable).toMatchObject({ status: 503, code: "unavailable" });
    expect(classifyEdgeError(unavailable)).toBe("retryable");

    edge.revoke(task.id);
    const stale = await client.heartbeat(task.id, { lease_id: lease.lease_id, phase: "running" }).catch((e) => e);
    expect(stale).toMatchObject({ status: 409, code: "lease_stale" });
    expect(classifyEdgeError(stale)).toBe("lease_stale");

    const offline = createEdgeClient({ edgeUrl: "http://127.0.0.1:9", secret: edge.secret });
    const network = await offline.heartbeat(task.id, { lease_id: lease.lease_id, phase: "running" }).catch((e) => e);
    expect(network).not.toBeInstanceOf(EdgeError);
    expect(classifyEdgeError(network)).toBe("retryable");
  });

  it("rejects an answer that does not match the contract", async () => {
    const client = createEdgeClient({
      edgeUrl: "https://edge.example",
      secret: edge.secret,
      fetch: async () => new Response(JSON.stringify({ stored: "yes" }), { status: 200 }),
    });
    const err = await client
      .postEvents("tsk_x", { lease_id: "l", batch_seq: 1, events: [{ type: "log", source: "runner", level: "info", message: "x" }] })
      .catch((e) => e);
    expect(err).toMatchObject({ code: "bad_response" });
    expect(err.message).toContain("stored");
  });

  it("times out a request that hangs", async () => {
    const client = createEdgeClient({
      edgeUrl: "https://edge.example",
      secret: edge.secret,
      requestTimeoutMs: 50,
      fetch: (_url, init) => new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal!.reason))),
    });
    const err = await client.heartbeat("tsk_x", { lease_id: "l", phase: "running" }).catch((e) => e);
    expect(err.name).toBe("TimeoutError");
    expect(classifyEdgeError(err)).toBe("retryable");
  });
});
