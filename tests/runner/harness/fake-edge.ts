/**
 * A stand-in for the edge's `/runner/v1` API on a real `node:http` server, for runner tests.
 *
 * It checks every request's signature with the contract's `verifyRequest`, validates every
 * body with the contract's schemas, and keeps tasks, leases, batches and completions in
 * memory with the edge's rules: long-poll leasing that wakes a waiting runner at once,
 * strictly sequential `batch_seq` (a duplicate is acknowledged with `stored: false`, a gap is
 * a 409), `lease_stale` after the lease is revoked, and cancel through heartbeat and event
 * acks, and `release` (graceful hand-back) that re-queues the task at once. Tests can inject
 * failures. Anything a real edge would refuse is also recorded in
 * `violations`, so a test can assert the runner never did it.
 * @module
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import {
  Completion,
  EventBatch,
  Heartbeat,
  LeaseRequest,
  Release,
  SessionUpload,
  newLeaseId,
  newTaskId,
  RUNNER_API_PREFIX,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyRequest,
  type ErrorCode,
  type Lease,
  type RunnerEvent,
} from "#api/index.js";

export interface FakeTask {
  id: string;
  spec: Lease["task"];
  lease: Lease | null;
  status: "queued" | "leased" | "running" | "done";
  batches: EventBatch[];
  heartbeats: Heartbeat[];
  completion: Completion | null;
  /** Hand-backs received (the task went back to the queue each time). */
  releases: Release[];
  /** CLI sessions uploaded (the last one is what a follow-up would resume). */
  sessions: SessionUpload[];
  cancelRequested: boolean;
  stale: boolean;
  /** Handed to the runner in the lease. */
  traceparent: string | null;
}

export interface FakeEdge {
  readonly url: string;
  readonly secret: string;
  readonly tasks: Map<string, FakeTask>;
  /** Requests the real edge would have refused (bad signature, bad body, gaps, …). */
  readonly violations: string[];
  readonly leaseRequests: LeaseRequest[];
  /** The `traceparent` header of every request about a task (heartbeat, events, complete, release). */
  readonly reportTraceparents: { path: string; traceparent: string | undefined }[];
  /** Queues a task; a waiting lease request gets it at once. */
  enqueue(task: Partial<Lease["task"]> & { repo: Lease["task"]["repo"] }, options?: { traceparent?: string }): FakeTask;
  /** Answers the next `n` event posts with `status` (before storing them). */
  failEvents(n: number, status?: number): void;
  /** Answers the next `n` release requests with `status`. */
  failReleases(n: number, status?: number): void;
  cancel(taskId: string): void;
  /** Revokes the lease: every later write about it gets 409 `lease_stale`. */
  revoke(taskId: string): void;
  /** All events of a task, in stored order. */
  events(taskId: string): RunnerEvent[];
  waitFor<T>(check: () => T | undefined | null | false, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export async function startFakeEdge(options: { secret?: string; heartbeatIntervalMs?: number } = {}): Promise<FakeEdge> {
  const secret = options.secret ?? "fake-edge-secret-0123456789abcdef";
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 200;
  const tasks = new Map<string, FakeTask>();
  const queue: FakeTask[] = [];
  const waiters = new Set<() => void>();
  const violations: string[] = [];
  const leaseRequests: LeaseRequest[] = [];
  const reportTraceparents: FakeEdge["reportTraceparents"] = [];
  let eventFailures: { left: number; status: number } = { left: 0, status: 503 };
  let releaseFailures: { left: number; status: number } = { left: 0, status: 503 };

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = new Uint8Array(Buffer.concat(chunks));
    const path = req.url ?? "/";
    const send = (status: number, json?: unknown) => {
      if (json === undefined) {
        res.writeHead(status).end();
        return;
      }
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
    };
    const fail = (status: number, code: ErrorCode, message: string) => send(status, { error: { code, message, request_id: "req_fake" } });

    const verified = await verifyRequest({
      secrets: [secret],
      method: req.method ?? "",
      pathAndQuery: path,
      body,
      timestampHeader: req.headers[TIMESTAMP_HEADER] as string | undefined,
      signatureHeader: req.headers[SIGNATURE_HEADER] as string | undefined,
    });
    if (!verified.ok) {
      violations.push(`unsigned or badly signed request to ${path}: ${verified.reason}`);
      return fail(401, "unauthorized", "bad signature");
    }
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(body));
    } catch {
      violations.push(`non-JSON body to ${path}`);
      return fail(400, "invalid_json", "body is not JSON");
    }

    if (path.startsWith(`${RUNNER_API_PREFIX}/tasks/`)) reportTraceparents.push({ path, traceparent: req.headers.traceparent as string | undefined });
    if (path === `${RUNNER_API_PREFIX}/lease`) {
      const parsed = LeaseRequest.safeParse(json);
      if (!parsed.success) {
        violations.push(`bad lease request: ${parsed.error.message}`);
        return fail(400, "validation_failed", parsed.error.message);
      }
      leaseRequests.push(parsed.data);
      const deadline = Date.now() + parsed.data.wait_ms;
      let closed = false;
      res.on("close", () => (closed = true));
      for (;;) {
        const index = queue.findIndex((t) => parsed.data.clis.includes(t.spec.cli));
        if (index >= 0) {
          const task = queue.splice(index, 1)[0]!;
          if (closed) {
            queue.unshift(task);
            return;
          }
          const attempt = (task.lease?.attempt ?? 0) + 1;
          task.lease = {
            task_id: task.id,
            lease_id: newLeaseId(),
            attempt,
            lease_expires_at: new Date(Date.now() + 60_000).toISOString(),
            traceparent: task.traceparent,
            heartbeat_interval_ms: heartbeatIntervalMs,
            task: task.spec,
          };
          task.status = "leased";
          task.stale = false;
          return send(200, task.lease);
        }
        const left = deadline - Date.now();
        if (left <= 0 || closed) return send(204);
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            waiters.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, left);
          waiters.add(wake);
        });
      }
    }

    const match = new RegExp(`^${RUNNER_API_PREFIX}/tasks/([^/]+)/(heartbeat|events|complete|release|session)$`).exec(path);
    const task = match ? tasks.get(decodeURIComponent(match[1]!)) : undefined;
    if (!match || !task) return fail(404, "not_found", "no such task");
    const action = match[2];
    const leaseId = (json as { lease_id?: unknown }).lease_id;
    if (!task.lease || task.stale || leaseId !== task.lease.lease_id) {
      return fail(409, "lease_stale", "the lease is no longer current");
    }

    if (action === "heartbeat") {
      const parsed = Heartbeat.safeParse(json);
      if (!parsed.success) {
        violations.push(`bad heartbeat: ${parsed.error.message}`);
        return fail(400, "validation_failed", parsed.error.message);
      }
      task.heartbeats.push(parsed.data);
      if (parsed.data.phase === "running") task.status = "running";
      return send(200, { lease_expires_at: new Date(Date.now() + 60_000).toISOString(), cancel_requested: task.cancelRequested });
    }

    if (action === "events") {
      const parsed = EventBatch.safeParse(json);
      if (!parsed.success) {
        violations.push(`bad event batch: ${parsed.error.message}`);
        return fail(400, "validation_failed", parsed.error.message);
      }
      if (eventFailures.left > 0) {
        eventFailures.left--;
        return fail(eventFailures.status, eventFailures.status === 429 ? "rate_limited" : "unavailable", "injected failure");
      }
      const batch = parsed.data;
      const last = task.batches.length;
      if (batch.batch_seq <= last) {
        if (JSON.stringify(task.batches[batch.batch_seq - 1]) !== JSON.stringify(batch)) {
          violations.push(`batch ${batch.batch_seq} was resent with different content`);
        }
        return send(200, { stored: false, last_batch_seq: last, cancel_requested: task.cancelRequested });
      }
      if (batch.batch_seq !== last + 1) {
        violations.push(`sequence gap: got ${batch.batch_seq} after ${last}`);
        return fail(409, "sequence_gap", `expected batch ${last + 1}`);
      }
      task.batches.push(batch);
      return send(200, { stored: true, last_batch_seq: batch.batch_seq, cancel_requested: task.cancelRequested });
    }

    if (action === "session") {
      const parsed = SessionUpload.safeParse(json);
      if (!parsed.success) {
        violations.push(`bad session upload: ${parsed.error.message}`);
        return fail(400, "validation_failed", parsed.error.message);
      }
      if (task.completion) violations.push("session uploaded after the completion");
      task.sessions.push(parsed.data);
      return send(200, { stored: true });
    }

    if (action === "release") {
      const parsed = Release.safeParse(json);
      if (!parsed.success) {
        violations.push(`bad release: ${parsed.error.message}`);
        return fail(400, "validation_failed", parsed.error.message);
      }
      if (releaseFailures.left > 0) {
        releaseFailures.left--;
        return fail(releaseFailures.status, "unavailable", "injected failure");
      }
      task.releases.push(parsed.data);
      task.stale = true;
      task.status = "queued";
      queue.push(task);
      for (const wake of [...waiters]) wake();
      return send(200, { status: "queued" });
    }

    const parsed = Completion.safeParse(json);
    if (!parsed.success) {
      violations.push(`bad completion: ${parsed.error.message}`);
      return fail(400, "validation_failed", parsed.error.message);
    }
    if (parsed.data.last_batch_seq !== task.batches.length) {
      violations.push(`completion names batch ${parsed.data.last_batch_seq} but ${task.batches.length} were stored`);
      return fail(409, "sequence_gap", "batches missing");
    }
    task.completion = parsed.data;
    task.status = "done";
    return send(200, { status: parsed.data.outcome });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    secret,
    tasks,
    violations,
    leaseRequests,
    reportTraceparents,
    enqueue(partial, options = {}) {
      const task: FakeTask = {
        id: newTaskId(),
        spec: {
          prompt: "Add a note",
          cli: "demo",
          model: null,
          timeout_seconds: 60,
          ...partial,
          iteration: partial.iteration ?? 1,
          base: partial.base ?? null,
          stall_timeout_seconds: partial.stall_timeout_seconds ?? null,
          access_token: partial.access_token ?? null,
          env: partial.env ?? {},
          push: partial.push ?? null,
          autonomy: partial.autonomy ?? "full",
          egress_allow: partial.egress_allow ?? null,
          setup: partial.setup ?? null,
          budget: partial.budget ?? { max_cost_usd: null, max_tokens: null, max_turns: null, spent_cost_usd: 0, spent_tokens: 0 },
          resume: partial.resume ?? null,
        },
        lease: null,
        status: "queued",
        batches: [],
        heartbeats: [],
        completion: null,
        releases: [],
        sessions: [],
        cancelRequested: false,
        stale: false,
        traceparent: options.traceparent ?? null,
      };
      tasks.set(task.id, task);
      queue.push(task);
      for (const wake of [...waiters]) wake();
      return task;
    },
    failEvents(n, status = 503) {
      eventFailures = { left: n, status };
    },
    failReleases(n, status = 503) {
      releaseFailures = { left: n, status };
    },
    cancel(taskId) {
      tasks.get(taskId)!.cancelRequested = true;
    },
    revoke(taskId) {
      tasks.get(taskId)!.stale = true;
    },
    events(taskId) {
      return tasks.get(taskId)!.batches.flatMap((b) => b.events);
    },
    async waitFor(check, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = check();
        if (value) return value;
        if (Date.now() > deadline) throw new Error("fake edge: condition not reached in time");
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      for (const wake of [...waiters]) wake();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
