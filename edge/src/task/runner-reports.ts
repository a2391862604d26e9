/**
 * What the lease holder sends the task: heartbeats, event batches, the CLI session it keeps,
 * its result, or the task handed back. Each is checked against the current lease (by its hash;
 * the lease id itself is never stored) and decided by `lifecycle.ts`; hashing the lease id is
 * the only await before the read-modify-write, which then runs in one turn.
 * @module
 */
import type {
  Completion,
  EventBatch,
  EventBatchAck,
  Heartbeat,
  HeartbeatAck,
  Release,
  ReleaseAck,
  SessionUpload,
  SessionUploadAck,
} from "#api/runner-protocol.js";
import { sha256Hex } from "#api/signing.js";
import { lastUsage, recordResultCost, recordUsage } from "./attempt-usage.js";
import { markSessionCompleted, sealSession, storeSession } from "./cli-session-store.js";
import { appendEvent } from "./event-log.js";
import * as lifecycle from "./lifecycle.js";
import { admitEvents } from "./output-cap.js";
import { secretBox } from "./secret-box.js";
import type { SpendCharges } from "./spend-charges.js";
import type { StatusRecorder } from "./status-recorder.js";
import type { TaskHost } from "./task-host.js";
import { notFound, type Outcome } from "./task-rpc.js";
import { saveOutputUsage, saveResult, saveState } from "./task-store.js";

export class RunnerReports {
  constructor(
    private readonly host: TaskHost,
    private readonly recorder: StatusRecorder,
    private readonly charges: SpendCharges,
  ) {}

  async heartbeat(input: Heartbeat): Promise<Outcome<HeartbeatAck>> {
    const leaseHash = await sha256Hex(input.lease_id);
    const { host } = this;
    const stored = host.loadStored();
    if (!stored) return notFound;
    const task = host.withHeldLease(stored);
    const now = Date.now();
    const decision = lifecycle.heartbeat(task.state, { leaseHash, phase: input.phase, now }, host.timing);
    if (!decision.ok) return decision;
    host.holdLease(leaseHash, decision.state.leaseExpiresAt!);
    // A heartbeat that only renews the lease writes nothing, until the stored deadline runs low.
    if (decision.changes.length > 0 || lifecycle.leaseNeedsStoring(stored.state.leaseExpiresAt, now, host.timing)) {
      this.recorder.record(decision.state, decision.changes, now);
    }
    return {
      ok: true,
      value: {
        lease_expires_at: new Date(decision.state.leaseExpiresAt!).toISOString(),
        cancel_requested: decision.state.cancelRequestedAt !== null,
      },
    };
  }

  async appendEvents(input: EventBatch): Promise<Outcome<EventBatchAck>> {
    const { sql, stream, config } = this.host;
    const leaseHash = await sha256Hex(input.lease_id);
    const task = this.host.load();
    if (!task) return notFound;
    const decision = lifecycle.acceptBatch(task.state, { leaseHash, batchSeq: input.batch_seq, now: Date.now() });
    if (!decision.ok) return decision;
    const ack = (stored: boolean): Outcome<EventBatchAck> => ({
      ok: true,
      value: { stored, last_batch_seq: decision.state.lastBatchSeq, cancel_requested: task.state.cancelRequestedAt !== null },
    });
    if (decision.duplicate) return ack(false);

    const now = Date.now();
    // Metered whether or not the output cap still stores the event: spend is not output.
    const usage = lastUsage(input.events);
    if (usage) recordUsage(sql, task.state, usage);
    const admitted = admitEvents(input.events, { bytes: task.outputBytes, truncated: task.outputTruncated }, config.outputMaxBytes);
    const events = admitted.bodies.map((body) => appendEvent(sql, { ts: now, iteration: task.state.iteration, attempt: task.state.attempt, body }).text);
    saveOutputUsage(sql, admitted.usage.bytes, admitted.usage.truncated);
    saveState(sql, decision.state, now);
    // The whole batch reaches each watcher as one frame.
    stream.send(events);
    return ack(true);
  }

  /**
   * The lease holder keeps its CLI's session for the next iteration (see cli-session-store.ts):
   * sealed before it is stored, counted once this lease completes. Never shown to anyone.
   */
  async saveSession(input: SessionUpload): Promise<Outcome<SessionUploadAck>> {
    const { host } = this;
    const leaseHash = await sha256Hex(input.lease_id);
    const before = host.load();
    if (!before) return notFound;
    const stale = lifecycle.checkLease(before.state, leaseHash, Date.now());
    if (stale && !stale.ok) return stale;
    if (input.session.cli !== before.spec.cli)
      return {
        ok: false,
        code: "validation_failed",
        message: `the session is ${input.session.cli}'s; this task runs ${before.spec.cli}`,
        field: "session.cli",
      };
    if (host.config.taskSecretsKey === null) return { ok: true, value: { stored: false } };
    const sealed = await sealSession(await secretBox(host.config.taskSecretsKey), before.id, before.state.iteration, input.session);
    // Checked again after the await, in the same turn as the write: the lease may have ended meanwhile.
    const task = host.load()!;
    const now = Date.now();
    const staleNow = lifecycle.checkLease(task.state, leaseHash, now);
    if (staleNow && !staleNow.ok) return staleNow;
    storeSession(host.sql, { iteration: task.state.iteration, leaseHash, sealed, now });
    host.log(task).info("cli session kept", { iteration: task.state.iteration, attempt: task.state.attempt, sealed_chars: sealed.length });
    return { ok: true, value: { stored: true } };
  }

  async complete(input: Completion): Promise<Outcome<{ status: string }>> {
    const { sql } = this.host;
    const leaseHash = await sha256Hex(input.lease_id);
    const task = this.host.load();
    if (!task) return notFound;
    const now = Date.now();
    const decision = lifecycle.complete(task.state, {
      leaseHash,
      outcome: input.outcome,
      error: input.error,
      lastBatchSeq: input.last_batch_seq,
      now,
    });
    if (!decision.ok) return decision;
    // A retried report of the same lease: answer as before, store nothing twice.
    if (decision.changes.length === 0) return { ok: true, value: { status: decision.state.status } };
    markSessionCompleted(sql, task.state.iteration, leaseHash);
    if (input.result) {
      saveResult(sql, input.result);
      recordResultCost(sql, task.state, input.result.cost_usd);
      this.recorder.note(task.state, { type: "result", result: input.result }, now);
    }
    this.recorder.record(decision.state, decision.changes, now);
    await this.recorder.carryOut(decision.effects, task);
    await this.charges.send(task);
    return { ok: true, value: { status: decision.state.status } };
  }

  /** The lease holder hands the task back (shutting down): it is re-queued at once. */
  async release(input: Release): Promise<Outcome<ReleaseAck>> {
    const leaseHash = await sha256Hex(input.lease_id);
    const task = this.host.load();
    if (!task) return notFound;
    const now = Date.now();
    const decision = lifecycle.release(task.state, { leaseHash, reason: input.reason, now });
    if (!decision.ok) return decision;
    this.recorder.record(decision.state, decision.changes, now);
    await this.recorder.carryOut(decision.effects, task);
    await this.charges.send(task);
    return { ok: true, value: { status: decision.state.status } };
  }
}
