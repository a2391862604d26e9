/**
 * What every part of a task object shares: its storage, bindings and parsed configuration, the
 * one alarm, and a few reads each part needs (the task row, its logger, its dispatcher). Built
 * once by `TaskObject` and handed to the modules that own the object's concerns, so none of them
 * reaches for the runtime on its own.
 * @module
 */
import { parseTraceparent } from "#api/trace-context.js";
import { edgeConfig, type EdgeConfig, type Env } from "../env.js";
import { ownerDispatcher } from "../dispatcher/shards.js";
import { logFor, type Logger } from "../log.js";
import { tableExists, type Sql } from "../sql/migrations.js";
import { loadTraceparent } from "../webhooks/delivery-store.js";
import { AlarmSchedule } from "./alarm-schedule.js";
import { isTerminal } from "#api/task.js";
import { eventsSince } from "./event-log.js";
import { LiveStream } from "./live-stream.js";
import { SseWatchers } from "./sse-watchers.js";
import type { Timing } from "./lifecycle.js";
import type { Viewer } from "./task-rpc.js";
import { loadTask, type TaskRecord } from "./task-store.js";

export class TaskHost {
  readonly sql: Sql;
  readonly config: EdgeConfig;
  /** The object's single alarm; concerns register with it (see alarm-schedule.ts). */
  readonly schedule: AlarmSchedule;
  /**
   * The deadline the current lease holder's last heartbeat set, kept in memory only: the stored
   * `lease_expires_at` trails it by less than half a TTL (see `lifecycle.leaseNeedsStoring`),
   * so a heartbeat that only renews the lease writes nothing. Lost with the instance, which
   * then goes by the stored deadline: earlier than the real one, never later.
   */
  private heldLease: { hash: string; expiresAt: number } | null = null;
  /** The task's watchers (WebSocket and SSE); events appended in one turn reach them together. */
  readonly stream: LiveStream;

  constructor(
    readonly ctx: DurableObjectState,
    readonly env: Env,
  ) {
    this.sql = ctx.storage.sql;
    this.config = edgeConfig(env);
    this.schedule = new AlarmSchedule(ctx.storage);
    const sse = new SseWatchers(
      {
        after: (seq, limit) => eventsSince(this.sql, seq, limit),
        ended: () => {
          const task = this.loadStored();
          return task === null || isTerminal(task.state.status);
        },
      },
      { heartbeatMs: this.config.streamSseHeartbeatMs },
    );
    this.stream = new LiveStream(ctx, sse);
  }

  get timing(): Timing {
    return { leaseTtlMs: this.config.leaseTtlMs, cancelGraceMs: 2 * this.config.heartbeatIntervalMs + 15_000 };
  }

  /**
   * The task, or null when this object holds none (never created, or deleted). Its lease
   * deadline is the later of the stored one and the one its holder's heartbeats kept in memory.
   */
  load(): TaskRecord | null {
    const task = this.loadStored();
    return task && this.withHeldLease(task);
  }

  /** `task` as stored, with the lease deadline its holder's heartbeats kept in memory when that is later. */
  withHeldLease(task: TaskRecord): TaskRecord {
    const held = this.heldLease;
    if (!held || task.state.leaseHash !== held.hash || !(held.expiresAt > (task.state.leaseExpiresAt ?? Number.POSITIVE_INFINITY))) return task;
    return { ...task, state: { ...task.state, leaseExpiresAt: held.expiresAt } };
  }

  /** The task exactly as stored, its lease deadline included. */
  loadStored(): TaskRecord | null {
    return tableExists(this.sql, "task") ? loadTask(this.sql) : null;
  }

  /** Keeps, in memory, the deadline a heartbeat of lease `hash` renewed it to. */
  holdLease(hash: string, expiresAt: number): void {
    this.heldLease = { hash, expiresAt };
  }

  /** The task if `viewer` may see it, else null. */
  visible(viewer: Viewer): TaskRecord | null {
    const task = this.load();
    return task && (viewer.admin || task.owner === viewer.owner) ? task : null;
  }

  /** The task's logger: every line carries its id and, when it has one, its trace id. */
  log(task: Pick<TaskRecord, "id">): Logger {
    const trace = parseTraceparent(loadTraceparent(this.sql));
    return logFor(this.env).child({ task_id: task.id, ...(trace ? { trace_id: trace.traceId } : {}) });
  }

  /** The logger of whatever task the object holds, for failures reported after it may be gone. */
  logAny(): Logger {
    return this.log({ id: loadTask(this.sql)?.id ?? "unknown" });
  }

  /** The dispatcher of the task's pool: the shard of its owner key (see dispatcher/shards.ts). */
  dispatcher(task: Pick<TaskRecord, "spec" | "owner">) {
    return ownerDispatcher(this.env, this.config.dispatcherShards, task.spec.pool, task.owner);
  }
}
