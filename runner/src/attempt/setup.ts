/**
 * The attempt's setup phase: the task's setup commands run in its sandbox, in the checkout,
 * after the clone and while the CLI is still held — so the CLI starts only once they all
 * succeeded, and never when one failed.
 *
 * Which commands: the task's `setup` when it gives one (`[]`: none); else, where the pool allows
 * it (`setup_repository_script`), the repository's `.codeforge/setup.sh` when the checkout has
 * one; else the pool's `setup_commands`. Each runs as `sh -c <command>` in a sandbox of its
 * own over the attempt's mounts and limits (`AttemptSandbox.openPhase`): files carry over to
 * the next command and to the CLI, processes do not. Their environment is the sandbox's base
 * (`PATH`, `HOME`, `TMPDIR`, `CI=true`) and the task's `env` — never the runner's CLI keys.
 *
 * The setup's egress policy is its own, for its duration: the pool's setup hosts (package
 * registries by default) and the repository's host; the CLI's model API hosts are refused even
 * when listed, and the model gateway is not offered. Its output streams as the `setup` phase.
 *
 * The setup is lent its repository's dependency cache (`dependency-cache.ts`) writable at
 * `/cache`, the package managers pointed at it through their variables (`npm_config_cache`,
 * `PIP_CACHE_DIR`, `CARGO_HOME`, …, which the task's `env` may still override); the CLI's
 * sandbox never has it.
 *
 * What a setup that succeeded added to the checkout (untracked, not ignored) is excluded from
 * the task's change (`git/exclude-untracked.ts`): installed dependencies are not the work.
 *
 * A command that fails, or a setup past its time limit (the pool's, within the task's own
 * timeout, which still stops everything as `timed_out`), ends the attempt as `setup_failed`
 * with the command and the last lines of its output.
 * @module
 */
import { lstat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import type { DependencyCacheStatus } from "#api/index.js";
import { excludeUntracked } from "../git/exclude-untracked.js";
import { gitEnv } from "../git/git-hardening.js";
import type { OutputStream } from "../output/output-batcher.js";
import type { ProcessExit } from "../sandbox/process-runner.js";
import type { SetupOutcome } from "../telemetry/runner-metrics.js";
import { withSpan } from "../telemetry/tracing.js";
import { dependencyCacheEnv, lockfileHash, type HeldDependencyCache } from "./dependency-cache.js";
import { endWith, type Attempt, type Ending, type Step } from "./attempt.js";
import { failure, stoppedReport } from "./attempt-report.js";
import { repositoryHost, type LaunchedCli } from "./launch.js";

/** The script a repository may name for its setup, relative to its checkout. */
export const REPOSITORY_SETUP_SCRIPT = ".codeforge/setup.sh";

/** Lines of the failing command's output the error message ends with. */
const FAILURE_TAIL_LINES = 20;
/** Characters of that tail at most (a task error is a short text, not a log). */
const FAILURE_TAIL_CHARS = 2_000;

/** What runs and where it came from, for the log. */
interface SetupPlan {
  commands: { run: string; shown: string }[];
  source: "the task" | "the repository's script" | "the pool's default";
}

/**
 * Runs the setup, when the task has one, before the CLI is let go; hands on whether one ran.
 * @example
 * const setup = await runSetup(attempt, launched.next);
 * if (ended(setup)) return await end(setup);
 */
export async function runSetup(attempt: Attempt, launched: LaunchedCli): Promise<Step<null>> {
  const plan = await setupPlan(attempt, launched.workspace.repoDir);
  if (!plan) return { next: null };
  const { options, batcher, lease, now } = attempt;
  const setup = options.setup;
  const timeoutSeconds = setup?.timeoutSeconds ?? 600;
  const startedAt = now();
  batcher.setPhase("setup");
  batcher.log("info", `Setting up: ${plan.commands.length} command(s) from ${plan.source}, within ${timeoutSeconds} s`);
  const cache = await lendDependencyCache(attempt, launched.workspace.repoDir);
  let succeeded = false;
  const phase = await launched.sandbox
    .openPhase({
      dependencyCacheDir: cache.held?.dir,
      egress: {
        pool: [...(setup?.egressAllow ?? []), ...repositoryHost(lease.task.repo.url)],
        task: null,
        allowedNetworks: options.egress?.allowedNetworks ?? [],
        lookup: options.lookup,
        // Listed or not, a model API is not the setup's to call (its gateway is not offered either).
        refuse: { patterns: launched.adapter.egressHosts(), reason: "a model API: not reachable during setup" },
      },
      onEgressDenied: (denial) => {
        options.metrics?.egressDenied();
        attempt.noisyLog.info({ host: denial.host, port: denial.port, reason: denial.reason, phase: "setup" }, "egress denied");
        batcher.pushEvents([
          { type: "egress_denied", host: denial.host.slice(0, 260), port: denial.port, reason: denial.reason.slice(0, 1_024), phase: "setup" },
        ]);
      },
    })
    .catch(async (err: unknown) => {
      await cache.held?.release(false);
      throw err;
    });
  let running: ReturnType<typeof phase.start> | undefined;
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    running?.stop();
  }, timeoutSeconds * 1_000);
  const env = {
    PATH: options.pathEnv,
    HOME: launched.sandbox.paths.home,
    TMPDIR: launched.sandbox.paths.tmp,
    LANG: "C.UTF-8",
    CI: "true",
    ...(phase.dependencyCacheDir ? dependencyCacheEnv(phase.dependencyCacheDir) : {}),
    ...(attempt.taskEnv.success ? attempt.taskEnv.data : {}),
    ...phase.env,
  };
  const outcome = (value: SetupOutcome) => options.metrics?.setupFinished(value, Math.max(0, (now() - startedAt) / 1_000));
  try {
    for (const command of plan.commands) {
      batcher.log("info", `$ ${command.shown}`);
      const tail = createTail();
      const child = (running = phase.start({ command: "/bin/sh", args: ["-c", command.run], env }));
      const onStop = () => child.stop();
      attempt.signal.addEventListener("abort", onStop);
      if (attempt.signal.aborted) child.stop();
      const exit = await withSpan("setup.command", async () => {
        await Promise.all([pump(child.stdout, "stdout", attempt, tail), pump(child.stderr, "stderr", attempt, tail)]);
        return child.exited;
      });
      attempt.signal.removeEventListener("abort", onStop);
      if (attempt.stopReason) {
        outcome("stopped");
        return endWith(stoppedReport(attempt.stopReason, null), attempt.stopReason);
      }
      const problem = timedOut ? `ran past the setup's time limit (${timeoutSeconds} s)` : exitProblem(exit);
      if (problem) {
        outcome(timedOut ? "timed_out" : "failed");
        return setupFailed(attempt, command.shown, problem, tail.text());
      }
    }
    try {
      const env = gitEnv({ path: options.pathEnv, homeDir: launched.workspace.homeDir });
      const excluded = await excludeUntracked({ repoDir: launched.workspace.repoDir, env, signal: attempt.signal });
      if (excluded > 0) batcher.log("info", `${excluded} path(s) the setup added are left out of the task's change`);
    } catch (err) {
      if (attempt.stopReason) return endWith(stoppedReport(attempt.stopReason, null), attempt.stopReason);
      // The checkout's .git as the setup left it refused the exclusion: its files then count as changes.
      batcher.log("warn", `The setup's files could not be left out of the task's change: ${err instanceof Error ? err.message : String(err)}`);
    }
    attempt.setupMs = now() - startedAt;
    succeeded = true;
    outcome("succeeded");
    batcher.log("info", `Setup done in ${(attempt.setupMs / 1_000).toFixed(1)} s`);
    return { next: null };
  } finally {
    clearTimeout(deadline);
    running?.stop();
    await phase.close();
    await cache.held?.release(succeeded).catch((err: unknown) => attempt.log.warn({ err: String(err) }, "releasing the dependency cache failed"));
    batcher.setPhase(null);
  }
}

/** The repository's dependency cache for the setup, held until it ends; says how warm it is (also in the log and metrics). */
async function lendDependencyCache(attempt: Attempt, repoDir: string): Promise<{ held: HeldDependencyCache | null }> {
  const caches = attempt.options.dependencyCache;
  const lent = async (): Promise<{ held: HeldDependencyCache | null; status: DependencyCacheStatus }> => {
    if (!caches) return { held: null, status: "off" };
    try {
      const held = await caches.acquire(attempt.lease.task.repo.url, await lockfileHash(repoDir), attempt.signal);
      return held ? { held, status: held.status } : { held: null, status: "fallback" };
    } catch (err) {
      attempt.log.warn({ err: String(err) }, "the dependency cache could not be opened");
      return { held: null, status: "fallback" };
    }
  };
  const { held, status } = await lent();
  attempt.dependencyCache = status;
  attempt.options.metrics?.dependencyCache(status);
  if (status !== "off") attempt.batcher.log("info", `Dependency cache: ${DEPENDENCY_CACHE_WORDS[status]}`);
  return { held };
}

const DEPENDENCY_CACHE_WORDS: Record<DependencyCacheStatus, string> = {
  off: "off",
  cold: "cold (first setup of this repository here)",
  miss: "miss (warm from other lockfiles)",
  hit: "hit (same lockfiles as last time)",
  fallback: "none (another task of this repository holds it)",
};

/** The commands to run, or null when there are none. */
async function setupPlan(attempt: Attempt, repoDir: string): Promise<SetupPlan | null> {
  const given = attempt.lease.task.setup;
  const asGiven = (commands: readonly string[]) => commands.map((command) => ({ run: command, shown: command }));
  if (given !== null) return given.length > 0 ? { commands: asGiven(given), source: "the task" } : null;
  if (attempt.options.setup?.repositoryScript && (await hasRepositoryScript(repoDir))) {
    // With its own interpreter line when executable, else as a POSIX shell script.
    const script = REPOSITORY_SETUP_SCRIPT;
    const run = `if [ -x ${script} ]; then exec ./${script}; else exec sh ${script}; fi`;
    return { commands: [{ run, shown: script }], source: "the repository's script" };
  }
  const pool = attempt.options.setup?.commands ?? [];
  return pool.length > 0 ? { commands: asGiven(pool), source: "the pool's default" } : null;
}

/** Whether the checkout has the script as a file (or a link, resolved inside the sandbox), in a real directory. */
async function hasRepositoryScript(repoDir: string): Promise<boolean> {
  const dir = await lstat(path.join(repoDir, path.dirname(REPOSITORY_SETUP_SCRIPT))).catch(() => null);
  if (!dir?.isDirectory()) return false;
  const file = await lstat(path.join(repoDir, REPOSITORY_SETUP_SCRIPT)).catch(() => null);
  return file !== null && (file.isFile() || file.isSymbolicLink());
}

function exitProblem(exit: ProcessExit): string | null {
  if (exit.spawnError) return `could not be started: ${exit.spawnError}`;
  if (exit.exitCode === 0) return null;
  return exit.exitCode !== null ? `exited with code ${exit.exitCode}` : `was killed by ${exit.signal}`;
}

function setupFailed(attempt: Attempt, shown: string, problem: string, tail: string): Ending {
  const command = shown.length > 200 ? `${shown.slice(0, 199)}…` : shown;
  const message = `setup command \`${command.replace(/\s+/g, " ")}\` ${problem}${tail ? `; its last output:\n${tail}` : "; it printed nothing"}`;
  attempt.batcher.log("error", `Setup failed: the command ${problem}; the CLI does not run.`);
  return endWith(failure("setup_failed", message), null);
}

/** The last lines a command printed, both streams together, as they came. */
function createTail() {
  let text = "";
  return {
    push(chunk: string) {
      text = (text + chunk).slice(-4 * FAILURE_TAIL_CHARS);
    },
    text() {
      const lines = text.replace(/\s+$/, "").split("\n").slice(-FAILURE_TAIL_LINES).join("\n");
      return lines.length > FAILURE_TAIL_CHARS ? `…${lines.slice(-FAILURE_TAIL_CHARS)}` : lines;
    },
  };
}

/** Streams one output stream of a setup command (marked as the setup phase by the batcher), keeping its tail. */
async function pump(stream: Readable, name: OutputStream, attempt: Attempt, tail: ReturnType<typeof createTail>): Promise<void> {
  const decoder = new TextDecoder();
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      tail.push(decoder.decode(chunk, { stream: true }));
      await attempt.batcher.pushOutput(name, chunk);
    }
  } catch (err) {
    attempt.log.warn({ err: String(err), stream: name }, "reading setup output failed");
  }
}
