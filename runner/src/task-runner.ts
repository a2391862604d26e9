/**
 * Runs one leased attempt of a task from start to finish: the job runner.
 *
 * An attempt is a short sequence of phases under `attempt/`, each handing the next what it
 * needs or ending the attempt with the report to send:
 *
 * 1. launch (`attempt/launch.ts`): workspace → open the attempt's sandbox (`sandbox/`) and
 *    launch the CLI in it, held;
 * 2. checkout (`attempt/checkout.ts`): clone meanwhile, or for a follow-up check out where the
 *    last iteration left off (`git/iteration-checkout.ts`);
 * 3. setup (`attempt/setup.ts`): the task's setup commands (or the pool's, or the repository's
 *    script) in the sandbox, in the checkout, under the setup's own egress policy and time
 *    limit, while the CLI is still held; a failing setup ends the attempt (`setup_failed`);
 * 4. run (`attempt/run.ts`): let the CLI start → heartbeat `running` → stream its output → wait
 *    for it to exit, time out (`timeout_seconds` from the lease), be cancelled (heartbeat or
 *    event ack) or pass a resource limit;
 * 5. describe (`attempt/describe.ts`): the changes, usage and cost, and whether the CLI
 *    succeeded;
 * 6. push (`attempt/push.ts`): check the change for the task's secrets, then commit and push it
 *    when the task asks (`git/git-push.ts`);
 *
 * then flush the output and report the outcome (`attempt/attempt-report.ts`), and — whatever
 * happened, in `finally` — close the sandbox and remove the workspace (`Attempt.close`).
 *
 * Every way out of a task goes through one `stop(reason)` (`attempt/attempt.ts`): the first
 * reason wins and decides the outcome (`canceled`, `timed_out`, `stalled` after
 * `stall_timeout_seconds` without output, `resource_limit` when the workspace outgrows its disk
 * limit), or that no outcome is reported at all — a stale lease means another attempt owns the
 * task, and at shutdown the task is handed back (`release`) so the edge re-queues it at once
 * without spending an attempt.
 *
 * The task's secrets: its `access_token` goes to git only; its `env` to the CLI only (a model
 * API key that goes through the model gateway not even there). Every one of them is masked in
 * all output, log events and the completion (see `secrets/secret-masker.ts`), and so is the
 * runner's own secret, which nothing in the sandbox can read but which must never be echoed
 * either.
 * @module
 */
import type { Lease } from "#api/index.js";
import { ended, endWith, openAttempt, type AttemptEnd, type Ending, type TaskRunnerOptions } from "./attempt/attempt.js";
import { failure, reportOutcome } from "./attempt/attempt-report.js";
import { checkOut } from "./attempt/checkout.js";
import { describeRun } from "./attempt/describe.js";
import { launchCli } from "./attempt/launch.js";
import { pushChanges } from "./attempt/push.js";
import { runCli } from "./attempt/run.js";
import { runSetup } from "./attempt/setup.js";
import { withRemoteParent } from "./telemetry/tracing.js";

export type { TaskRunnerOptions } from "./attempt/attempt.js";

export interface TaskRunner {
  /** Runs one attempt; `signal` aborts at runner shutdown. Never throws. */
  run(lease: Lease, signal: AbortSignal): Promise<void>;
}

/**
 * @example
 * const taskRunner = createTaskRunner({ client, registry, sandbox, workspaceRoot, gitPolicy, pathEnv, logger });
 * const loop = createLeaseLoop({ client, run: taskRunner.run, … });
 */
export function createTaskRunner(options: TaskRunnerOptions): TaskRunner {
  /** One attempt as one span (`runner.lease`), a child of the edge's lease span. */
  function run(lease: Lease, shutdown: AbortSignal): Promise<void> {
    const attributes = { "codeforge.task_id": lease.task_id, "codeforge.attempt": lease.attempt, "codeforge.cli": lease.task.cli };
    return withRemoteParent(
      lease.traceparent,
      "runner.lease",
      (span) => runAttempt(lease, shutdown, (end) => span.setAttribute("codeforge.attempt_end", end)),
      attributes,
    );
  }

  async function runAttempt(lease: Lease, shutdown: AbortSignal, onEnd: (end: AttemptEnd) => void): Promise<void> {
    const attempt = openAttempt(lease, shutdown, options);
    const end = (ending: Ending) => reportOutcome(attempt, ending.end, ending.reason);
    try {
      const launched = await launchCli(attempt);
      if (ended(launched)) return await end(launched);
      const checkout = await checkOut(attempt, launched.next.workspace);
      if (ended(checkout)) return await end(checkout);
      const setup = await runSetup(attempt, launched.next);
      if (ended(setup)) return await end(setup);
      const cliRun = await runCli(attempt, launched.next);
      if (ended(cliRun)) return await end(cliRun);
      const described = await describeRun(attempt, launched.next, checkout.next, cliRun.next);
      if (ended(described)) return await end(described);
      const pushed = await pushChanges(attempt, launched.next.workspace, checkout.next, described.next);
      if (ended(pushed)) return await end(pushed);
      await end(endWith({ outcome: "succeeded", result: pushed.next, error: null }, null));
    } catch (err) {
      attempt.log.error({ err: err instanceof Error ? err.stack : String(err) }, "task failed inside the runner");
      await end(endWith(failure("runner_error", "the runner hit an internal error"), attempt.stopReason)).catch(() => undefined);
    } finally {
      await attempt.close();
      options.metrics?.taskFinished(lease.task.cli, attempt.end);
      onEnd(attempt.end);
      attempt.log.info({ reason: attempt.stopReason, end: attempt.end }, "task finished");
    }
  }

  return { run };
}
