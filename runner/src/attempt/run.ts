/**
 * The attempt's run phase: the CLI started in its sandbox, its output streamed, until it exits.
 *
 * Starting the CLI turns the heartbeat to `running`. Its stdout and stderr go to the output
 * batcher as they come (awaiting the batcher is what slows a chatty CLI down), stdout through the
 * CLI's parser into agent events. Any stop (cancel, timeout, a limit, the budget, a stall after
 * `stall_timeout_seconds` without output) stops the CLI; the stop reason seen when it exited
 * decides the outcome. Without a sandbox (`sandbox: none`) the task's log says so.
 * @module
 */
import type { Readable } from "node:stream";
import type { Logger } from "pino";
import type { OutputParser } from "../cli/cli-adapter.js";
import { startIdleTimer } from "../output/idle-timer.js";
import type { OutputBatcher, OutputStream } from "../output/output-batcher.js";
import type { ProcessExit } from "../sandbox/process-runner.js";
import { withSpan } from "../telemetry/tracing.js";
import { endWith, type Attempt, type Step, type StopReason } from "./attempt.js";
import { failure, stoppedReport } from "./attempt-report.js";
import type { LaunchedCli } from "./launch.js";

/** How the CLI's run went. */
export interface CliRun {
  exit: ProcessExit;
  /** The stop reason when the CLI exited; null when it finished on its own. */
  reasonAtExit: StopReason | null;
  durationMs: number;
  parser: OutputParser | null;
}

/**
 * Starts the CLI and streams its output until it exits; ends the attempt when it could not be
 * started, or when the lease is gone or the runner shuts down.
 */
export async function runCli(attempt: Attempt, { adapter, launch, session }: LaunchedCli): Promise<Step<CliRun>> {
  const { lease, options, batcher, log, now } = attempt;
  const parser = adapter.createParser();
  if (options.sandbox.kind === "none") {
    log.warn("running the CLI without a sandbox (sandbox: none)");
    batcher.log("warn", "This runner has no sandbox (sandbox: none): the CLI runs with the runner's view of the machine, with edits only.");
  }
  batcher.log("info", `Starting ${lease.task.cli}${lease.task.model ? ` (model ${lease.task.model})` : ""}`);
  const spawnedAt = now();
  // The CLI's span lasts from spawn until its output is read; output posted meanwhile is its child.
  const { exit, reasonAtExit } = await withSpan(
    "cli.run",
    async (cliSpan) => {
      const child = launch.go();
      attempt.cli = child;
      if (child.pid !== undefined) attempt.heartbeat.setPhase("running");
      attempt.signal.addEventListener("abort", () => child.stop());
      if (attempt.signal.aborted) child.stop();
      const stallSeconds = lease.task.stall_timeout_seconds ?? options.stallTimeoutSeconds;
      if (stallSeconds) attempt.stall = startIdleTimer(stallSeconds * 1000, () => attempt.stop("stalled"));

      const onOutput = () => attempt.stall?.touch();
      const pumps = Promise.all([
        pump(child.stdout, "stdout", parser, batcher, log, (chunk) => (onOutput(), session.observe(chunk))),
        pump(child.stderr, "stderr", null, batcher, log, onOutput),
      ]);
      const exit = await child.exited;
      options.metrics?.observePhase("run", Math.max(0, (now() - spawnedAt) / 1_000));
      attempt.stall?.stop();
      const reasonAtExit: StopReason | null = attempt.stopReason;
      await pumps;
      cliSpan.setAttributes({ "process.exit.code": exit.exitCode ?? -1, ...(reasonAtExit ? { "codeforge.stop_reason": reasonAtExit } : {}) });
      return { exit, reasonAtExit };
    },
    { "codeforge.cli": lease.task.cli },
  );
  if (parser) batcher.pushEvents(parser.end());
  const durationMs = now() - spawnedAt;

  if (exit.spawnError) {
    const message = `${lease.task.cli} could not be started: ${exit.spawnError}`;
    batcher.log("error", message);
    return endWith(failure("cli_failed", message), reasonAtExit);
  }
  batcher.log(
    reasonAtExit ? "warn" : "info",
    `${lease.task.cli} ${exit.exitCode !== null ? `exited with code ${exit.exitCode}` : `was killed by ${exit.signal}`} after ${durationMs} ms`,
  );
  if (reasonAtExit === "lease_lost" || reasonAtExit === "shutdown") return endWith(stoppedReport(reasonAtExit, null), reasonAtExit);
  return { next: { exit, reasonAtExit, durationMs, parser } };
}

/** Reads one output stream into the batcher; awaiting the batcher is what applies backpressure. */
async function pump(stream: Readable, name: OutputStream, parser: OutputParser | null, batcher: OutputBatcher, log: Logger, onOutput: (chunk: Buffer) => void) {
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      onOutput(chunk);
      const events = parser?.push(chunk) ?? [];
      const queued = batcher.pushOutput(name, chunk);
      batcher.pushEvents(events);
      await queued;
    }
  } catch (err) {
    log.warn({ err: String(err), stream: name }, "reading CLI output failed");
  }
}
