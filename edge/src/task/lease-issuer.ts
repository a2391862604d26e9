/**
 * Granting the lease to a runner the dispatcher picked: the task's secrets and the CLI session
 * it resumes are opened first, then the lease is decided and written in one turn, and the
 * runner gets its `Lease` (lease-grant.ts). A task whose secrets no longer open fails instead.
 * The grant is the `TaskObject.grantLease` span in the task's trace, linked to the runner's
 * lease request (a trace of its own: a long poll belongs to no task), and its `traceparent`
 * goes to the runner.
 * @module
 */
import { newLeaseId } from "#api/ids.js";
import type { CliSession, Lease } from "#api/runner-protocol.js";
import { sha256Hex } from "#api/signing.js";
import { newTraceparent } from "#api/trace-context.js";
import { tableExists } from "../sql/migrations.js";
import { inTaskTrace, linkTo } from "../tracing/task-span.js";
import { loadTraceparent, saveTraceparent } from "../webhooks/delivery-store.js";
import { spentBefore } from "./attempt-usage.js";
import { clearForAttempt, openSession, sessionToResume } from "./cli-session-store.js";
import { leaseFor } from "./lease-grant.js";
import * as lifecycle from "./lifecycle.js";
import { secretBox } from "./secret-box.js";
import type { StatusRecorder } from "./status-recorder.js";
import type { TaskHost } from "./task-host.js";
import { openSecrets, type TaskSecrets } from "./task-secrets.js";
import type { TaskRecord } from "./task-store.js";

export class LeaseIssuer {
  constructor(
    private readonly host: TaskHost,
    private readonly recorder: StatusRecorder,
  ) {}

  /** Called for a runner the dispatcher picked; null when the task can no longer be leased. */
  async grant(input: { runnerId: string; requestTraceparent?: string | null }): Promise<Lease | null> {
    const { sql } = this.host;
    if (!tableExists(sql, "task")) return null;
    let traceparent = loadTraceparent(sql);
    if (traceparent === null) saveTraceparent(sql, (traceparent = newTraceparent()));
    return inTaskTrace(
      traceparent,
      "TaskObject.grantLease",
      async (leaseTraceparent, span) => {
        const lease = await this.grantInTrace(input.runnerId, leaseTraceparent);
        span.setAttributes({ "codeforge.leased": lease !== null, ...(lease ? { "codeforge.attempt": lease.attempt } : {}) });
        return lease;
      },
      {
        attributes: { "codeforge.task_id": this.host.load()?.id ?? "", "codeforge.runner_id": input.runnerId },
        links: linkTo(input.requestTraceparent ?? null),
      },
    );
  }

  private async grantInTrace(runnerId: string, traceparent: string): Promise<Lease | null> {
    const { host } = this;
    const leaseId = newLeaseId();
    const leaseHash = await sha256Hex(leaseId);
    // Secrets are opened before the lease is decided, so the decision and its write stay in one
    // turn; a task that ended meanwhile is refused below, and its opened secrets dropped.
    const opened = await this.openSecretsFor(host.load());
    if (opened === "unopenable") return null;
    const resume = await this.sessionToResume(host.load());
    const task = host.load();
    if (!task) return null;
    const now = Date.now();
    const decision = lifecycle.lease(task.state, { runnerId, leaseHash, now }, host.timing);
    if (!decision.ok) return null;
    this.recorder.record(decision.state, decision.changes, now);
    clearForAttempt(host.sql, decision.state.iteration);
    host.log(task).info("lease granted", { runner_id: runnerId, attempt: decision.state.attempt, resumes_session: resume !== null });
    const secrets = task.sealedSecrets === null ? null : opened;
    const spent = spentBefore(host.sql, decision.state.iteration, decision.state.attempt);
    return leaseFor(task, { leaseId, state: decision.state, heartbeatIntervalMs: host.config.heartbeatIntervalMs, secrets, traceparent, spent, resume });
  }

  /**
   * The task's secrets for a lease: null when it has none, "unopenable" when they no longer
   * open (the key changed): the task then fails, since no runner could run it as asked.
   */
  private async openSecretsFor(task: TaskRecord | null): Promise<TaskSecrets | null | "unopenable"> {
    const { host } = this;
    if (!task?.sealedSecrets) return null;
    try {
      if (host.config.taskSecretsKey === null) throw new Error("no TASK_SECRETS_KEY");
      return await openSecrets(await secretBox(host.config.taskSecretsKey), task.id, task.sealedSecrets);
    } catch {
      // The error says nothing about the secrets themselves; only that they did not open.
      const current = host.load();
      if (!current) return "unopenable";
      const now = Date.now();
      const message = "the task's secrets cannot be decrypted (TASK_SECRETS_KEY changed or unset); submit it again";
      const decision = lifecycle.abandon(current.state, { error: { code: "secrets_unavailable", message }, now });
      if (decision.ok) {
        this.recorder.record(decision.state, decision.changes, now);
        await this.recorder.carryOut(decision.effects, current);
      }
      host.log(task).error("task secrets did not open; task failed");
      return "unopenable";
    }
  }

  /** The session a lease of this iteration resumes, opened; null when there is none or it no longer opens. */
  private async sessionToResume(task: TaskRecord | null): Promise<CliSession | null> {
    const { host } = this;
    if (!task || host.config.taskSecretsKey === null) return null;
    const sealed = sessionToResume(host.sql, task.state.iteration);
    if (sealed === null) return null;
    try {
      const session = await openSession(await secretBox(host.config.taskSecretsKey), task.id, task.state.iteration - 1, sealed);
      return session.cli === task.spec.cli ? session : null;
    } catch {
      // A session is a convenience: one that no longer opens (the key changed) means a fresh start.
      host.log(task).warn("cli session did not open; the iteration starts a fresh session");
      return null;
    }
  }
}
